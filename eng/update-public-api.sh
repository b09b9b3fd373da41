#!/usr/bin/env bash
# Regenerates the public API baselines (src/<Package>/PublicAPI.Shipped.txt and PublicAPI.Unshipped.txt) from the code.
#
# Every src project runs Microsoft.CodeAnalysis.PublicApiAnalyzers (Directory.Build.props). A public symbol that is in
# neither file fails the build with RS0016; a listed symbol that is gone or no longer public fails it with RS0017. So an
# API change is a deliberate edit of these files, visible in review. After a change to the public API (or after merging
# a branch that changed it), run this script from anywhere in the repository and commit the files it rewrites:
#
#   eng/update-public-api.sh            # Unshipped.txt := the API that is not in Shipped.txt (+ *REMOVED* lines)
#   eng/update-public-api.sh --ship     # the same, then moves it into Shipped.txt (do this when a version is released)
#   eng/update-public-api.sh AiOps.Data # only the packages named (their references must have been built)
#
# How it works, per package (Abstractions first, so the others compile against it):
#   1. PublicAPI.Unshipped.txt is reset to its header, "#nullable enable" (the analyzer then records nullable
#      annotations, `string!` / `string?`, in every entry; without the header it reports RS0037 instead).
#   2. The project is compiled (forced, not incremental, so the analyzer runs) with warnings not as errors.
#   3. The symbol text of each RS0016 diagnostic ("Symbol '<entry>' is not part of the declared public API") becomes a
#      line of PublicAPI.Unshipped.txt, sorted (ordinal); each RS0017 ("Symbol '<entry>' is part of the declared API,
#      but is either not public or could not be found") names a Shipped.txt entry that no longer exists: it is written
#      as "*REMOVED*<entry>" (the analyzer's way to record a removal of shipped API; --ship then drops it from Shipped).
#   4. Any other RS00xx diagnostic (e.g. RS0026 optional-parameter overloads) is printed and the script fails.
# Needs: bash, the .NET SDK of global.json, GNU grep/sed/sort. Touches only the PublicAPI.*.txt files (and bin/obj).
set -euo pipefail

ship=false
if [[ "${1:-}" == "--ship" ]]; then ship=true; shift; fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages=(AiOps.Abstractions AiOps.Inference AiOps.Monitoring AiOps.Data AiOps.Release)
if [[ $# -gt 0 ]]; then
  for p in "$@"; do
    [[ -f "$root/src/$p/$p.csproj" ]] || { echo "usage: $0 [--ship] [package...]; no src/$p/$p.csproj" >&2; exit 2; }
  done
  packages=("$@")
fi
header='#nullable enable'
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export LC_ALL=C MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

# The entries of one diagnostic id in the build log, one per line, deduplicated.
entries() {
  grep -E ": (warning|error) $1: Symbol '" "$log" \
    | sed -E "s/^.*: (warning|error) $1: Symbol '(.*)' (is not part of the declared public API|is part of the declared API, but is either not public or could not be found).*$/\2/" \
    | sort -u || true
}

failed=false
for p in "${packages[@]}"; do
  dir="$root/src/$p"
  [[ -f "$dir/PublicAPI.Shipped.txt" ]] || printf '%s\n' "$header" > "$dir/PublicAPI.Shipped.txt"
  printf '%s\n' "$header" > "$dir/PublicAPI.Unshipped.txt"

  # Forced compile of this project only (the ones before it in the list are already built).
  dotnet build "$dir/$p.csproj" -c Release --no-incremental -nologo -clp:NoSummary \
    -p:BuildProjectReferences=false -p:TreatWarningsAsErrors=false -p:MSBuildTreatWarningsAsErrors=false \
    -p:WarningsAsErrors= >"$log" 2>&1 || {
      # The build may only "fail" on RS diagnostics reported as errors; anything else is a real failure.
      if grep -E ": error " "$log" | grep -vqE ": error RS00(16|17):"; then
        grep -E ": error " "$log" | sort -u >&2
        echo "$p: the build failed for another reason than the API baseline; fix that first." >&2
        exit 1
      fi
    }

  added="$(entries RS0016)"
  removed="$(entries RS0017)"
  {
    printf '%s\n' "$header"
    {
      if [[ -n "$added" ]]; then printf '%s\n' "$added"; fi
      if [[ -n "$removed" ]]; then printf '%s\n' "$removed" | sed 's/^/*REMOVED*/'; fi
    } | sort -u
  } > "$dir/PublicAPI.Unshipped.txt"

  others="$(grep -oE ": (warning|error) RS00[0-9]{2}:.*" "$log" | grep -vE "RS00(16|17):" | sort -u || true)"
  if [[ -n "$others" ]]; then
    echo "$p: other public API diagnostics (not fixable by regenerating the baseline):" >&2
    printf '%s\n' "$others" >&2
    failed=true
  fi

  if $ship; then
    # Shipped := Shipped - removed + added; Unshipped := header.
    {
      grep -vxF "$header" "$dir/PublicAPI.Shipped.txt" | grep -vxF -f <(printf '%s\n' "$removed") || true
      if [[ -n "$added" ]]; then printf '%s\n' "$added"; fi
    } | sed '/^$/d' | sort -u | { printf '%s\n' "$header"; cat; } > "$dir/PublicAPI.Shipped.txt.new"
    mv "$dir/PublicAPI.Shipped.txt.new" "$dir/PublicAPI.Shipped.txt"
    printf '%s\n' "$header" > "$dir/PublicAPI.Unshipped.txt"
  fi

  echo "$p: $(printf '%s' "$added" | grep -c . || true) unshipped, $(printf '%s' "$removed" | grep -c . || true) removed"
done

if $failed; then exit 1; fi
