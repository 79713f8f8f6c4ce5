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
