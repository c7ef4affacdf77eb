#!/bin/sh
# Entry point for a fresh machine: makes sure pwsh exists (the PowerShell NuGet global tool), then hands over to
# build.ps1, where all real logic lives.
#   ./build.sh setup   install, build, lay out the module, run the demo
#   ./build.sh test    install what tests need, build, run every test; ends with 'N passed, N failed'
#   ./build.sh <Task>[,<Task>...] [build.ps1 arguments]
set -eu
cd "$(dirname "$0")"
PWSH_VERSION=7.6.9
export PATH="$PATH:$HOME/.dotnet/tools"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off
if ! command -v pwsh >/dev/null 2>&1 || ! pwsh -NoProfile -c '$PSVersionTable.PSVersion.ToString()' 2>/dev/null | grep -q "^$PWSH_VERSION"; then
    echo "== installing pwsh $PWSH_VERSION (dotnet global tool)"
    dotnet tool update --global PowerShell --version "$PWSH_VERSION" >/dev/null
fi
cmd="${1:-setup}"
[ $# -gt 0 ] && shift
case "$cmd" in
    setup) exec pwsh -NoProfile -NoLogo -File ./build.ps1 -Task Bootstrap,Build,Layout,Help,Demo "$@" ;;
    test)  exec pwsh -NoProfile -NoLogo -File ./build.ps1 -Task Bootstrap,Build,Layout,Help,Test "$@" ;;
    *)     exec pwsh -NoProfile -NoLogo -File ./build.ps1 -Task "$cmd" "$@" ;;
esac
