# tests/raft: added with node/raft's code.
