# tests/wal: added with node/wal's code.
