# tests/mvcc: added with node/mvcc's code.
