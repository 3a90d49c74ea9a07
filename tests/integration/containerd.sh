# tests/integration/containerd.sh - a private containerd 1.6 for tests:
# its own root, state, socket and config under $T, stopped (with every
# task it ran) at exit. Containers are made with `ctr -n k8s.io` from an
# image built here (busybox rootfs -> OCI image tar -> `ctr images
# import`), in the cgroups a kubelet gives and with the annotations the
# CRI sets. Source after common.sh and containers.sh.
#
# Layout this relies on (containerd 1.6 runtime/v2): each task's OCI
# spec is STATE/io.containerd.runtime.v2.task/<namespace>/<id>/config.json,
# kept until the task is deleted; the CRI plugin's annotations
# (pkg/cri/annotations) are io.kubernetes.cri.container-type
# (sandbox|container), sandbox-id, sandbox-name, sandbox-namespace,
# sandbox-uid, container-name and image-name.

need_containerd() {
	need_containers
	need_cmd containerd ctr
	CTRD=$T/ctrd
	CTRD_STATE=$CTRD/state
	mkdir -p "$CTRD/root" "$CTRD_STATE"
	# no CRI (it wants CNI), no listeners but the private sockets
	cat >"$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD_STATE"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CTRD/sock"
[ttrpc]
  address = "$CTRD/sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
	containerd --config "$CTRD/config.toml" >"$CTRD/log" 2>&1 9>&- &
	CTRD_PID=$!
	_ctrd_ids=()
	add_cleanup _ctrd_cleanup
	wait_for 30 ctrd version || { tail -20 "$CTRD/log"; fail "containerd did not start"; }
}

# ctrd ARGS...: ctr against the private containerd, namespace k8s.io
ctrd() { ctr --address "$CTRD/sock" -n k8s.io "$@"; }

# ctrd_image NAME: build a busybox image and import it as NAME
ctrd_image() {
	local name=$1
	ctr_rootfs "$T/img-rootfs"
	"$PYTHON3" - "$T/img-rootfs" "$T/img.tar" "$name" <<'PY'
import hashlib, io, json, sys, tarfile
rootfs, out, name = sys.argv[1:4]
def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()
lb = io.BytesIO()
with tarfile.open(fileobj=lb, mode="w", format=tarfile.PAX_FORMAT) as t:
    t.add(rootfs, arcname=".")
layer = lb.getvalue()
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "config": {"Cmd": ["/bin/sh"], "WorkingDir": "/"},
                  "rootfs": {"type": "layers", "diff_ids": [digest(layer)]}}).encode()
man = json.dumps({"schemaVersion": 2,
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                             "digest": digest(cfg), "size": len(cfg)},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                              "digest": digest(layer), "size": len(layer)}]}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [{
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": digest(man), "size": len(man),
    "annotations": {"io.containerd.image.name": name}}]}).encode()
with tarfile.open(out, "w") as t:
    def add(n, b):
        ti = tarfile.TarInfo(n)
        ti.size = len(b)
        t.addfile(ti, io.BytesIO(b))
    add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add("index.json", index)
    for b in (layer, cfg, man):
        add("blobs/sha256/" + digest(b)[7:], b)
print(digest(man))
PY
	ctrd images import "$T/img.tar" >/dev/null
}

# ctrd_pod_container ID CGROUP TYPE POD NS UID NAME IMAGE SANDBOX_ID CMD [MOUNT...]
# A detached task as the CRI would create it: kubelet's cgroup path and
# the CRI annotations (TYPE sandbox or container; NAME empty for a
# sandbox). MOUNT is SRC:DST (rbind, rw).
ctrd_pod_container() {
	local id=$1 cg=$2 type=$3 pod=$4 ns=$5 uid=$6 name=$7 image=$8 sid=$9 cmd=${10}
	shift 10
	local a=(--annotation "io.kubernetes.cri.container-type=$type"
		--annotation "io.kubernetes.cri.sandbox-id=$sid"
		--annotation "io.kubernetes.cri.sandbox-name=$pod"
		--annotation "io.kubernetes.cri.sandbox-namespace=$ns"
		--annotation "io.kubernetes.cri.sandbox-uid=$uid")
	[ "$type" = container ] && a+=(--annotation "io.kubernetes.cri.container-name=$name"
		--annotation "io.kubernetes.cri.image-name=$image")
	local m
	for m in "$@"; do
		a+=(--mount "type=bind,src=${m%%:*},dst=${m#*:},options=rbind:rw")
	done
	_ctrd_ids+=("$id")
	ctrd run -d --cgroup "$cg" "${a[@]}" "$image" "$id" sh -c "$cmd" \
		</dev/null >"$T/ctrd-$id.out" 2>&1 9>&- ||
		fail "ctr run $id: $(cat "$T/ctrd-$id.out")"
}

# ctrd_pid ID: the task's init pid
ctrd_pid() { ctrd task ls | awk -v id="$1" '$1 == id { print $2 }'; }

# ctrd_rm ID: kill and delete one task and its container
ctrd_rm() {
	ctrd task kill -s KILL "$1" >/dev/null 2>&1 || true
	local i
	for i in $(seq 1 100); do
		ctrd task ls 2>/dev/null | awk -v id="$1" '$1 == id && $3 == "RUNNING" { f = 1 } END { exit !f }' || break
		sleep 0.05
	done
	ctrd task rm -f "$1" >/dev/null 2>&1 || true
	ctrd container rm "$1" >/dev/null 2>&1 || true
}

_ctrd_cleanup() {
	local id
	for id in "${_ctrd_ids[@]:-}"; do
		[ -n "$id" ] && ctrd_rm "$id"
	done
	kill "$CTRD_PID" 2>/dev/null && wait "$CTRD_PID" 2>/dev/null
	# snapshots containerd left mounted (none after a clean delete)
	grep -o " $CTRD[^ ]*" /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
	return 0
}

# ctrd_wait SECONDS ID...: wait until each task has stopped; 1 on timeout
ctrd_wait() {
	local secs=$1 id
	shift
	for id in "$@"; do
		wait_for "$secs" sh -c "ctr --address '$CTRD/sock' -n k8s.io task ls | awk -v id='$id' '\$1 == id && \$3 == \"STOPPED\" { f = 1 } END { exit !f }'" ||
			return 1
	done
}
