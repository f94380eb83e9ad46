"""Make the Pulumi CLI of exactly the pinned SDK's version available.

The Automation API refuses a CLI older than its SDK and behaves subtly
differently with a newer one, so the version is taken from the installed
``pulumi`` package, never chosen by hand. Machines without internet can't use
the official installer; they build the CLI from the Go module proxy instead.

Progress goes to stderr, so that stdout carries only the binary's path: the
first build takes minutes, and a set-up that says nothing that long looks hung.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CLI_MODULE = "github.com/pulumi/pulumi/pkg/v3"
SDK_MODULE = "github.com/pulumi/pulumi/sdk/v3"
LANGUAGE_HOST_MODULE = "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3"
VERSION_SYMBOL = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
PROGRESS_SECONDS = 15
# Measured on 2 cores with empty Go caches; shown before the build starts.
BUILD_ESTIMATE = "about 4-5 minutes on 2 idle cores, longer on a busy machine"


def say(message: str) -> None:
    print(f"pulumi-cli: {message}", file=sys.stderr, flush=True)


def sdk_version() -> str:
    return importlib.metadata.version("pulumi")


def cache_bin(version: str) -> Path:
    """Binaries live outside the repository so clones stay small and a second
    install on the same machine is a version check, not a build."""
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return root / "cf-ssl-saas" / "pulumi" / version / "bin"


def cli_version(binary: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().removeprefix("v")


def matching_binary(version: str) -> Path | None:
    candidates = [cache_bin(version) / "pulumi"]
    on_path = shutil.which("pulumi")
    if on_path:
        candidates.append(Path(on_path))
    return next((c for c in candidates if c.exists() and cli_version(c) == version), None)


def reachable(host: str, port: int = 443, timeout: float = 5.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def official_install(version: str) -> Path | None:
    if not reachable("get.pulumi.com"):
        return None
    from pulumi.automation import PulumiCommand
    from semver import VersionInfo

    root = cache_bin(version).parent
    say(f"downloading the official Pulumi CLI {version} into {root}")
    try:
        PulumiCommand.install(root=str(root), version=VersionInfo.parse(version))
    except Exception as error:  # noqa: BLE001 - any installer failure means: build instead
        say(f"official install failed ({type(error).__name__}); building with Go instead")
        return None
    return root / "bin" / "pulumi"


def external_replaces(go_mod: str) -> list[str]:
    """The CLI's go.mod pins forks through replace directives, which Go only
    honours in the main module; the wrapper must repeat the non-local ones."""
    lines = []
    for line in go_mod.splitlines():
        stripped = line.strip()
        if stripped.startswith("replace ") and "=>" in stripped:
            target = stripped.split("=>", 1)[1].strip()
            if not target.startswith((".", "/")):
                lines.append(stripped)
    return lines


def go(args: list[str], cwd: Path, counting: str = "", prefix: str = "") -> str:
    """With ``counting``, says every PROGRESS_SECONDS how many of go's stderr
    lines (those starting with ``prefix``) have come so far, as that many
    ``counting``: with ``build -v`` a line is a package compiled."""
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    errors: list[str] = []
    done = threading.Event()
    if counting:
        threading.Thread(target=report, args=(done, errors, prefix, counting), daemon=True).start()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(
            ["go", *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE, text=True
        )
        try:
            for line in process.stderr or []:
                errors.append(line)
            process.wait()
        finally:
            done.set()
        out.seek(0)
        output = out.read()
    if process.returncode != 0:
        raise RuntimeError(f"go {' '.join(args)} failed:\n{''.join(errors)[-4000:]}")
    return output


def report(done: threading.Event, lines: list[str], prefix: str, counting: str) -> None:
    start = time.monotonic()
    while not done.wait(PROGRESS_SECONDS):
        count = sum(1 for line in lines if line.startswith(prefix))
        say(f"  {time.monotonic() - start:.0f} s: {count} {counting}")


def go_build(version: str) -> Path:
    tag = f"v{version}"
    bin_dir = cache_bin(version)
    bin_dir.mkdir(parents=True, exist_ok=True)
    say(
        f"building the Pulumi CLI {version} from source with Go ({BUILD_ESTIMATE} "
        f"the first time; later runs reuse {bin_dir})"
    )
    with tempfile.TemporaryDirectory(prefix="pulumi-build-") as tmp:
        work = Path(tmp)
        say("fetching the CLI's module and its dependencies")
        go(["mod", "init", "pulumi-cli-build"], work)
        mod_file = go(["mod", "download", "-json", f"{CLI_MODULE}@{tag}"], work)
        cli_go_mod = Path(json.loads(mod_file)["GoMod"]).read_text()
        with (work / "go.mod").open("a") as handle:
            handle.write("\n" + "\n".join(external_replaces(cli_go_mod)) + "\n")
        go(
            ["get", f"{CLI_MODULE}/cmd/pulumi@{tag}", f"{SDK_MODULE}@{tag}"],
            work,
            counting="modules downloaded",
            prefix="go: downloading",
        )
        say("compiling (the last minute or so is linking, with no packages to count)")
        ldflags = f"-s -w -X {VERSION_SYMBOL}={tag}"
        go(
            [
                "build",
                "-v",
                "-trimpath",
                "-ldflags",
                ldflags,
                "-o",
                str(bin_dir / "pulumi"),
                f"{CLI_MODULE}/cmd/pulumi",
            ],
            work,
            counting="packages compiled",
        )
    return bin_dir / "pulumi"


def ensure_language_host(binary: Path) -> None:
    """`pulumi up` on the project needs a Python language host. The official
    CLI ships one beside itself; a source build has none (its Go module isn't
    served here), so the sandbox's stand-in goes into this checkout's venv."""
    if (binary.parent / "pulumi-language-python").exists():
        return
    venv_bin = Path(sys.executable).parent
    repo = Path(__file__).resolve().parents[2]
    host = venv_bin / "pulumi-language-python"
    host.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH="{repo}" exec "{sys.executable}" -m provisioning.sandbox.language_host "$@"\n'
    )
    host.chmod(0o755)


def main() -> int:
    version = sdk_version()
    binary = matching_binary(version)
    if binary is not None:
        say(f"reusing the Pulumi CLI {version} found on this machine")
    else:
        binary = official_install(version) or go_build(version)
    found = cli_version(binary)
    if found != version:
        print(f"pulumi at {binary} reports {found!r}, expected {version}", file=sys.stderr)
        return 1
    ensure_language_host(binary)
    print(binary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
