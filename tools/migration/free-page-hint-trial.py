#!/usr/bin/env python3
"""Does virtio-balloon free-page-hint survive a live migration here? Boots the VM test guest (out/testguest) in QEMU
under TCG with the balloon's free-page-hint on or off, migrates it to a second local QEMU over a unix socket (plain
QEMU, none of the product), lets the destination run 20 s and says whether its console shows a kernel BUG/panic.

    python3 tools/migration/free-page-hint-trial.py on  /tmp/fph-1   # with free-page-hint (and its iothread)
    python3 tools/migration/free-page-hint-trial.py off /tmp/fph-2   # the same without
"""
import socket, json, subprocess, time, sys, os
fph = sys.argv[1]; d = sys.argv[2]; tag = os.path.basename(d)
os.makedirs(d, exist_ok=True)
root = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
dev = "virtio-balloon-pci,id=balloon0,free-page-reporting=on,deflate-on-oom=on" + (",free-page-hint=on,iothread=bi" if fph == "on" else "")
def qemu(name, extra):
    return subprocess.Popen(["qemu-system-x86_64","-machine","q35","-accel","tcg","-cpu","max","-m","256M","-nodefaults","-display","none",
      "-object","iothread,id=bi","-device",dev,"-kernel",f"{root}/out/testguest/vmlinuz","-initrd",f"{root}/out/testguest/initrd.img",
      "-append","console=ttyS0 panic=-1 memhp_default_state=online_movable","-serial",f"file:{d}/{name}.log","-no-reboot",
      "-qmp",f"unix:{d}/{name}.qmp,server=on,wait=off"] + extra, stdout=subprocess.DEVNULL, stderr=open(f"{d}/{name}.err","w"))
class Q:
    def __init__(s, p):
        for _ in range(100):
            try:
                s.s = socket.socket(socket.AF_UNIX); s.s.connect(p); break
            except Exception: time.sleep(0.1)
        s.f = s.s.makefile("rw"); s.f.readline(); s.cmd("qmp_capabilities")
    def cmd(s, c, a=None):
        m = {"execute": c}
        if a: m["arguments"] = a
        s.f.write(json.dumps(m) + "\n"); s.f.flush()
        while True:
            r = json.loads(s.f.readline())
            if "event" in r: continue
            return r
src = qemu("src", [])
time.sleep(25)  # boot
dst = qemu("dst", ["-incoming", f"unix:{d}/mig.sock"])
time.sleep(2)
qs = Q(f"{d}/src.qmp")
qs.cmd("migrate-set-capabilities", {"capabilities":[{"capability":"auto-converge","state":True}]})
qs.cmd("migrate", {"uri": f"unix:{d}/mig.sock"})
while True:
    st = qs.cmd("query-migrate")["return"]
    if st.get("status") in ("completed","failed","cancelled"): break
    time.sleep(0.2)
print(tag, fph, st.get("status"), st.get("downtime"), st.get("ram",{}).get("transferred"))
src.kill()
time.sleep(20)
dst.kill()
log = open(f"{d}/dst.log", errors="replace").read() if os.path.exists(f"{d}/dst.log") else ""
print(tag, "dst panic" if "panic" in log.lower() or "BUG" in log else "dst ok", len(log))
