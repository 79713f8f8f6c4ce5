# tests/proto: added with node/proto's code.
