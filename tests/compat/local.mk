# Real etcd clients (etcdctl 3.4, python3-etcd3, python3-etcd3gw) against a
# cetcd cluster; each is skipped with a message when not installed.
TESTS += tests/compat/clients.sh
dist_check_SCRIPTS += tests/compat/clients.sh
# Watch through etcdctl 3.4, python3-etcd3 and python3-etcd3gw.
TESTS += tests/compat/watch.sh
dist_check_SCRIPTS += tests/compat/watch.sh
# Maintenance.Snapshot with etcdctl `snapshot save` and the gateway.
TESTS += tests/compat/snapshot.sh
dist_check_SCRIPTS += tests/compat/snapshot.sh
# Leases through the same clients (issue 8).
TESTS += tests/compat/lease_clients.sh
dist_check_SCRIPTS += tests/compat/lease_clients.sh
# The gateway's streamed request bodies (watch, lease keep-alive).
TESTS += tests/compat/gateway_streams.sh
dist_check_SCRIPTS += tests/compat/gateway_streams.sh
EXTRA_DIST += tests/compat/gateway_streams.py
