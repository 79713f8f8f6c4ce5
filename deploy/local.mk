EXTRA_DIST += deploy/install-deps deploy/test deploy/quickstart
