"""The shop's catalog: item records, their wire types and the in-process index that serves reads."""
