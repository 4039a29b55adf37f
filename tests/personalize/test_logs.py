"""The batched JSON log lines: one write per batch, at once for warnings and without an event loop."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from personalize import logs


class CountingStream(io.StringIO):
    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def handler_on(stream: CountingStream) -> tuple[logging.Logger, logs.BatchedLines]:
    handler = logs.BatchedLines(stream)
    handler.setFormatter(logs.JsonLines())
    logger = logging.getLogger(f"pz-test-{id(stream)}")
    logger.propagate = False
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    return logger, handler


def test_lines_logged_on_the_event_loop_go_out_in_one_write_within_the_flush_interval() -> None:
    stream = CountingStream()
    logger, _ = handler_on(stream)

    async def burst() -> tuple[int, int]:
        for n in range(100):
            logger.info("line %d", n)
        before = stream.writes
        await asyncio.sleep(logs.FLUSH_SECONDS * 2)
        return before, stream.writes

    assert asyncio.run(burst()) == (0, 1)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [f"line {n}" for n in range(100)]


def test_a_warning_writes_the_waiting_lines_at_once() -> None:
    stream = CountingStream()
    logger, _ = handler_on(stream)

    async def log() -> int:
        logger.info("first")
        logger.warning("trouble")
        return stream.writes

    assert asyncio.run(log()) == 1
    assert [json.loads(line)["level"] for line in stream.getvalue().splitlines()] == ["info", "warning"]


def test_without_an_event_loop_a_line_is_written_at_once_and_flush_empties_the_batch() -> None:
    stream = CountingStream()
    logger, handler = handler_on(stream)
    logger.info("from a thread with no loop")
    assert stream.writes == 1

    async def leave_one() -> None:
        logger.info("waiting")

    asyncio.run(leave_one())  # the loop closed before its timer fired
    handler.flush()  # what exit does
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()][-1] == "waiting"

    async def on_a_new_loop() -> None:
        logger.info("next loop")
        await asyncio.sleep(logs.FLUSH_SECONDS * 2)

    asyncio.run(on_a_new_loop())
    assert stream.getvalue().splitlines()[-1].endswith('"next loop"}')
