#!/usr/bin/env bash
# Makes the .deb packages of a shared build (cpack -G DEB), checks their Depends name Debian
# packages, unpacks them into an empty directory (dpkg-deb -x: nothing on this machine is
# installed or changed), and runs the install test, the mlops tool and the Python package
# from there.
#   tests/install/check_debs.sh BUILD_DIR WORKDIR
# BUILD_DIR: a build of the shared preset (configured with the /usr prefix), its libraries,
# tool and Python module built. WORKDIR: emptied, then holds the unpacked root and consumers.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=$(realpath "$1")
work=$2
rm -rf "$work" "$build/packages"
mkdir -p "$work/root"
work=$(realpath "$work")

(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
mapfile -t debs < <(find "$build/packages" -maxdepth 1 -name '*.deb' | sort)
[ "${#debs[@]}" -gt 0 ] || { echo "check_debs: cpack made no .deb"; exit 1; }

ours=()
for deb in "${debs[@]}"; do ours+=("$(dpkg-deb -f "$deb" Package)"); done
depends_of() { dpkg-deb -f "$(printf '%s\n' "${debs[@]}" | grep "/$1_")" Depends; }

for deb in "${debs[@]}"; do
  name=$(dpkg-deb -f "$deb" Package)
  depends=$(dpkg-deb -f "$deb" Depends)
  echo "$(basename "$deb"): Depends: $depends"
  # Every dependency is one of these packages or a Debian package this machine has.
  for dep in $(tr ',|' '\n' <<<"$depends" | sed -E 's/\(.*\)//; s/ //g' | sort -u); do
    if printf '%s\n' "${ours[@]}" | grep -qx "$dep"; then continue; fi
    dpkg-query -W -f='${Status}\n' "$dep" 2>/dev/null | grep -q 'install ok installed' ||
      { echo "check_debs: $name depends on $dep, which is not a Debian package installed here"; exit 1; }
  done
  dpkg-deb -x "$deb" "$work/root"
done

# The libraries' package names the libraries' own dependencies (dpkg-shlibdeps), and the
# development package the exact runtime version.
runtime=$(printf '%s\n' "${ours[@]}" | grep -E '^libmlops[0-9]')
version=$(dpkg-deb -f "$(printf '%s\n' "${debs[@]}" | grep "/${runtime}_")" Version)
for dep in libflatbuffers2 libstdc++6 libc6; do
  depends_of "$runtime" | grep -qw "$dep" || { echo "check_debs: $runtime does not depend on $dep"; exit 1; }
done
if grep -q 'rdkafka' "$build/pkgconfig/mlops-orchestration.pc"; then
  depends_of "$runtime" | grep -qw librdkafka1 || { echo "check_debs: $runtime does not depend on librdkafka1"; exit 1; }
fi
if grep -q 'hiredis' "$build/pkgconfig/mlops-orchestration.pc"; then
  depends_of "$runtime" | grep -qw 'libhiredis0.14' || { echo "check_debs: $runtime does not depend on libhiredis0.14"; exit 1; }
fi
depends_of libmlops-dev | grep -qF "$runtime (= $version)" ||
  { echo "check_debs: libmlops-dev does not depend on $runtime (= $version)"; exit 1; }

tests/install/check_install.sh "$work/root/usr" shared "$work/consumers"

if [ -x "$work/root/usr/bin/mlops" ]; then
  help=$("$work/root/usr/bin/mlops" --help)
  grep -q send <<<"$help" || { echo "check_debs: mlops --help does not list send"; exit 1; }
  echo "mlops from the mlops-tools package runs"
fi
if package=$(find "$work/root" -path '*/mlops/__init__.py' | grep .); then
  # The extension finds libmlops_orchestration.so through its RPATH ($ORIGIN/...).
  PYTHONPATH="$(dirname "$(dirname "$package")")" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -c \
    'import mlops, mlops.messaging as mes; assert mes.MessageBuilder().with_user_msg("x").build().user_message == "x"; print("python3-mlops", mlops.__version__, "imports")'
fi
