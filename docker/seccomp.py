#!/usr/bin/env python3
"""Write docker/seccomp-bwrap.json: Docker's default seccomp profile plus exactly the calls
bubblewrap needs to build its sandbox with user namespaces inside an unprivileged container.

    python3 docker/seccomp.py [DEFAULT_JSON]

DEFAULT_JSON is Docker's own default profile; Debian ships it (for the docker.io of the
same version) in golang-github-docker-docker-dev, whose path is the default here:

    apt-get download golang-github-docker-docker-dev && dpkg -x golang-github-docker-docker-dev_*.deb x
    python3 docker/seccomp.py x/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json

Docker's default allows these calls (pivot_root: never) only to a container holding
CAP_SYS_ADMIN; the grader's
container holds no capability, and inside it bubblewrap gets them from its own user
namespace, where the kernel confines them to the namespaces bubblewrap creates.
"""
import json
import sys
from pathlib import Path

DEFAULT = "/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json"
OUT = Path(__file__).resolve().parent / "seccomp-bwrap.json"
# clone/unshare with CLONE_NEW* flags; mount, umount2 and pivot_root for the new root;
# sethostname for --hostname. Nothing else of the CAP_SYS_ADMIN group (no bpf, no setns,
# no new mount API, no perf_event_open).
BWRAP_CALLS = ["clone", "unshare", "mount", "umount2", "pivot_root", "sethostname"]


def profile(default: dict) -> dict:
    if default.get("defaultAction") != "SCMP_ACT_ERRNO" or len(default.get("syscalls", ())) < 10:
        raise SystemExit("seccomp.py: that is not Docker's default profile (an allow-list)")
    rule = {"names": BWRAP_CALLS, "action": "SCMP_ACT_ALLOW", "args": [],
            "comment": "bubblewrap: user, mount, PID, network, IPC and UTS namespaces (ml-autograder)",
            "includes": {}, "excludes": {}}
    return {**default, "syscalls": [*default["syscalls"], rule]}


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)
    OUT.write_text(json.dumps(profile(json.loads(source.read_text())), indent=1) + "\n")
    print(f"seccomp.py: wrote {OUT} from {source}")
