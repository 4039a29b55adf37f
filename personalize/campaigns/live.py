"""The campaigns a server runs: a versioned document of the store, like the experiments
(``personalize.store.documents``); ``PUT /v1/admin/campaigns`` validates the whole file
(``personalize.campaigns.definitions``) against the shop's segments and tiers before storing it."""

from __future__ import annotations

from personalize.campaigns.definitions import Campaign, CampaignFile, parse_campaigns
from personalize.settings import Settings
from personalize.store.documents import FileBacked, FileDocument, Versioned
from personalize.store.protocols import Store

DOCUMENT = "campaigns"


class LiveCampaigns(FileBacked[CampaignFile]):
    """The campaign definitions of one process and the stored version they came from (0: none stored)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._file = Versioned(DOCUMENT, "campaigns", CampaignFile())

    @property
    def defined(self) -> CampaignFile:
        return self._file.value

    def by_id(self, campaign_id: str) -> Campaign | None:
        return next((campaign for campaign in self.defined.campaigns if campaign.id == campaign_id), None)

    def parse(self, document: FileDocument, _version: int = 0) -> CampaignFile:
        """The file checked against this server's segment and tier names."""
        segments = {rule.name for rule in self.settings.segments.rules} | {"other"}
        tiers = {tier.name for tier in self.settings.loyalty.tiers} | {"none"}
        return parse_campaigns(document, segments=segments, tiers=tiers)

    async def refresh(self, store: Store) -> None:
        """Swap in the definitions another process stored (a stored file that no longer validates is logged)."""
        await self._file.refresh(store, self.parse)

    async def put(self, store: Store, document: FileDocument) -> int:
        """Validate, then store as the next version and serve it; nothing is stored when it is invalid."""
        return await self._file.put(store, document, self.parse(document))
