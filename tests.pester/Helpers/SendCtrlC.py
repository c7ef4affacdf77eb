#!/usr/bin/env python3
"""Types a command into an interactive pwsh on a pseudo-terminal, presses Ctrl+C once it is busy, and says how long
the prompt took to come back.

Interactive matters: only the interactive console host turns SIGINT into "stop the pipeline" (pwsh -Command simply
exits). The pwsh on PATH may be a launcher (the dotnet global tool) whose child is the real pwsh, so the signal goes
to the deepest pwsh process under the one started here, as the terminal's Ctrl+C reaches the foreground process.
"Back" is measured by typing a marker command after Ctrl+C: pwsh runs it only once the stopped command returned.

usage: SendCtrlC.py <ready> <ready-timeout-s> <delay-after-ready-s> <exit-timeout-s> -- <pwsh> <command line>
<ready> says when the long operation is under way: a file the command creates, or "cmdline:<text>" for a process
whose command line holds <text> (a qemu-img the cmdlet started, for example). Prints one JSON line:
  {"ready": bool, "returned": bool, "seconds_after_sigint": float, "exit_code": int|null, "output": "..."}
"""
import json
import os
import pty
import re
import select
import signal
import sys
import time


def descendants(pid):
    """pid and every descendant, parents first."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def real_pwsh(pid):
    for p in reversed(descendants(pid)):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"pwsh") or a.endswith(b"pwsh.dll") for a in cmd):
            return p
    return pid


def any_cmdline(text):
    needle = text.encode()
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    if needle in f.read().replace(b"\0", b" "):
                        return True
            except OSError:
                pass
    return False


def main():
    ready_file, ready_timeout, delay, exit_timeout = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    pwsh, line = sys.argv[sys.argv.index("--") + 1:][:2]
    pid, fd = pty.fork()
    if pid == 0:
        # PSReadLine asks the terminal for the cursor position, which this pty never answers: use the host's own line editor.
        os.environ["TERM"] = "dumb"
        # A foreground process on a terminal takes SIGINT. Started from a background job, this process may have
        # inherited SIGINT ignored, which exec keeps and .NET then honours: pwsh would never see the Ctrl+C.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execvp(pwsh, [pwsh, "-NoProfile", "-NoLogo", "-NoExit", "-Command", "Remove-Module PSReadLine -ErrorAction Ignore"])
    output = bytearray()

    def drain(seconds):
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([fd], [], [], min(left, 0.05))
            if r:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    return True
                output.extend(data)
                # .NET's console asks where the cursor is (ESC[6n) and waits for the terminal's answer: give one.
                for _ in range(data.count(b"\x1b[6n")):
                    os.write(fd, b"\x1b[1;1R")
            if finished():
                return True

    status = {"code": None}

    def finished():
        if status["code"] is not None:
            return True
        done, st = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            status["code"] = os.waitstatus_to_exitcode(st)
            return True
        return False

    end = time.monotonic() + 60
    while b"PS " not in output and time.monotonic() < end and not finished():
        drain(0.1)
    os.write(fd, line.encode() + b"\r")
    ready = False
    end = time.monotonic() + ready_timeout
    while time.monotonic() < end and not finished():
        if ready_file.startswith("cmdline:") and any_cmdline(ready_file[len("cmdline:"):]) or os.path.exists(ready_file):
            ready = True
            break
        drain(0.05)
    result = {"ready": ready, "returned": False, "seconds_after_sigint": None, "exit_code": None}
    if ready:
        drain(delay)
        target = real_pwsh(pid)
        sent = time.monotonic()
        os.kill(target, signal.SIGINT)
        mark = len(output)
        os.write(fd, b"'RETURNED-' + 'MARK'\r")
        while b"RETURNED-MARK" not in output[mark:] and not finished() and time.monotonic() - sent < exit_timeout:
            drain(0.02)
        result["returned"] = b"RETURNED-MARK" in output[mark:]
        result["seconds_after_sigint"] = round(time.monotonic() - sent, 3)
        os.write(fd, b"exit\r")
        drain(5)
    if not finished():
        for p in reversed(descendants(pid)):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        os.waitpid(pid, 0)
    result["exit_code"] = status["code"]
    # Plain text only: terminal escapes and control characters would break the test report's XML.
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode("utf-8", "replace"))
    result["output"] = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)[-4000:]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
