# compare.sh - sourced by tests/ctl/vs_*.sh: run one command list with
# Debian's etcdctl and with cetcdctl against the same cluster, and compare
# what they print and their exit codes, masking what differs by nature.
#
# The caller sets: $CMDS (file, one command a line), $EPS (--endpoints),
# $CTL (cetcdctl), $T, and optionally reset_between (a command run after
# each pass).  Command lines may use:
#   !cmd        must fail: only the exit code and the first "Error:" line
#               are compared (the usage after it is cobra's own);
#   TXNn cmd    stdin from $T/TXNn; other commands read /dev/null;
#   $REV        the store's revision just before the command;
#   $LEARNER    the ID of the learner member, if any ("none");
#   $SELF       the first endpoint's member ID;
#   $FOLLOWER   the ID of a member that is not the leader.
# A learner's ID differs between the passes: it is masked as LEARNER.
# MASK_MEMBER=1 also masks which member answered (several endpoints).

E0="env ETCDCTL_API=3 etcdctl --endpoints=${EPS%%,*}"
fails=0
SELF=$($E0 endpoint status | cut -d, -f2 | tr -d ' ')

rev_now() {
	REV=$($E0 get "" --from-key --limit=1 -w json | sed 's/.*"revision":\([0-9]*\).*/\1/')
}
learner_now() {
	LEARNER=$($E0 member list | grep ', true$' | cut -d, -f1 || true)
	LEARNER=${LEARNER:-none}
}
follower_now() {
	FOLLOWER=$($E0 endpoint status --cluster | grep -m1 ', false, false, ' | cut -d, -f2 | tr -d ' ' || true)
}

mask_id() {
	if [ "$LEARNER" != none ]; then
		# In JSON the ID is decimal: an unstarted member has no name.
		sed -i -E "s/$LEARNER/LEARNER/g; s/ +LEARNER/ LEARNER/g;
			s/\{\"ID\":[0-9]+,\"peerURLs\"/{\"ID\":LEARNER,\"peerURLs\"/g" "$1"
	fi
}

# Masks durations (and the width they give the TOOK column), Raft indexes,
# revisions, sizes and hashes, which count every write of both passes.
mask() {
	sed -E 's/took = [0-9.]+[µm]?s/took = T/;
		s/, [0-9]+, [0-9]+, $/, I, I, /;
		s/, [0-9.]+ [kMG]?B, /, SIZE, /;
		s/\| +[0-9.]+ [kMG]?B \|/| SIZE |/;
		s/\| +[0-9]+ \| +[0-9]+ \| +\|$/| I | I | |/;
		s/"(revision|raftIndex|raftAppliedIndex|create_revision|mod_revision|dbSize|dbSizeInUse|raft_term|raftTerm|hash|compact_revision)":[0-9]+/"\1":N/g;
		s/"took":"[0-9.]+[µm]?s"/"took":"T"/;
		s/^("Took" : )[0-9.]+[µm]?s$/\1T/;
		s/^"(Revision|RaftIndex|RaftAppliedIndex|DBSize|CreateRevision|ModRevision|PrevCreateRevision|PrevModRevision|RaftTerm|Hash)" : [0-9]+$/"\1" : N/;
		s/^compacted revision [0-9]+$/compacted revision N/;
		s/^Leadership transferred from [0-9a-f]+ to [0-9a-f]+$/Leadership transferred from X to Y/;
		s/^(\S+:[0-9]+, )[0-9]+$/\1HASH/;
		s/^(\| \S+:[0-9]+ \| +)[0-9]+ \|$/| EP | HASH |/;
		/HASH/ { s/ +/ /g; };
		/TOOK|[0-9.]+[µm]?s \|/ { s/[0-9.]+[µm]?s/T/; s/ +/ /g; s/-+/-/g; };
		/^\+-.*-\+$/ s/-+/-/g;
		/retrying of unary invoker failed/d' "$1" |
		if [ -n "${MASK_MEMBER:-}" ]; then
			# Several endpoints: etcdctl's balancer picks which one answers.
			sed -E 's/"member_id":[0-9]+/"member_id":M/g; s/^"MemberID" : [0-9]+$/"MemberID" : M/;
				s/(\| +(true|false) \| +(true|false) \|) +[0-9]+ \|/\1 TERM |/'
		else
			cat
		fi
}

run_all() { # $1: label, $2: command prefix
	n=0
	LEARNER=none
	while IFS= read -r cmd; do
		n=$((n + 1))
		rc=0
		case $cmd in *'$REV'*) rev_now ;; esac
		case $cmd in *'$FOLLOWER'*) follower_now ;; esac
		c=${cmd#!}
		in=/dev/null
		case $c in TXN*)
			in="$T/${c%% *}"
			c=${c#* }
			;;
		esac
		eval "$2 $c" <"$in" >"$T/$1.$n.out" 2>"$T/$1.$n.err" || rc=$?
		echo "$rc" >"$T/$1.$n.rc"
		case $cmd in
		*"member add"*)
			learner_now
			mask_id "$T/$1.$n.out"
			;;
		*member*)
			mask_id "$T/$1.$n.out"
			case $cmd in *"member remove"*) LEARNER=none ;; esac
			;;
		esac
		case $cmd in *member*)
			# The learner's random ID decides its place: order the lines
			# and the initial cluster, drop it from JSON member arrays.
			awk '/^ETCD_INITIAL_CLUSTER=/ {
				v = substr($0, 23, length($0) - 23); n = split(v, a, ",");
				for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
				s = a[1]; for (i = 2; i <= n; i++) s = s "," a[i];
				print "ETCD_INITIAL_CLUSTER=\"" s "\""; next } { print }' "$T/$1.$n.out" |
				sed -E 's/\{"ID":[0-9A-Z]+,"peerURLs":[^}]*\},?//g; s/,\]/]/g' | sort >"$T/sorted"
			mv "$T/sorted" "$T/$1.$n.out"
			;;
		esac
		case $cmd in
		# 3.4 prints the healthy line on stderr, 3.5 on stdout: compare both.
		"endpoint health"*) grep -v 'retrying of unary' "$T/$1.$n.err" >>"$T/$1.$n.out" || true ;;
		!*) : >"$T/$1.$n.out" ;;
		esac
	done <"$CMDS"
	${reset_between:-:}
}

compare_all() {
	n=0
	while IFS= read -r cmd; do
		n=$((n + 1))
		if ! cmp -s "$T/etcdctl.$n.rc" "$T/cetcdctl.$n.rc" ||
			! diff -u "$(mask "$T/etcdctl.$n.out" >"$T/m1"; echo "$T/m1")" \
				"$(mask "$T/cetcdctl.$n.out" >"$T/m2"; echo "$T/m2")" >"$T/diff"; then
			echo "DIFF: $cmd (rc $(cat "$T/etcdctl.$n.rc") vs $(cat "$T/cetcdctl.$n.rc"))"
			cat "$T/diff"
			fails=$((fails + 1))
		else
			echo "same: $cmd"
		fi
		# Errors: etcdctl's first "Error:" line must be cetcdctl's too.
		e1=$(grep -m1 '^Error:' "$T/etcdctl.$n.err" || true)
		e2=$(grep -m1 '^Error:' "$T/cetcdctl.$n.err" || true)
		if [ "$e1" != "$e2" ]; then
			echo "DIFF stderr: $cmd: '$e1' vs '$e2'"
			fails=$((fails + 1))
		fi
	done <"$CMDS"
	return 0
}

compare_run() {
	run_all etcdctl "ETCDCTL_API=3 etcdctl --endpoints=$EPS"
	run_all cetcdctl "$CTL --endpoints=$EPS"
	compare_all
}
