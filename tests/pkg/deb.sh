#!/bin/bash
# tests/pkg/deb.sh -- the Debian packages CPack makes from this build
# (docs/packages.md): builds them, checks names, dependencies and contents,
# unpacks them into a scratch root and uses what is inside: the installed
# `vouch --version` and a hash of an example, a C program built with
# pkg-config and another with CMake's find_package(vouch) against the
# unpacked library, and the systemd unit's sandbox.  Reads $VOUCH_BUILD
# (the build directory) and $VOUCH_SRC.
set -u
B=${VOUCH_BUILD:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
# shellcheck source=../cli/lib/check.sh
. "$SRC/tests/cli/lib/check.sh"
# bridge.jpg, full-resolution PDQ: the reference's hash (tests/cli/hash.sh)
REF=f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22

if ! cpack --config "$B/CPackConfig.cmake" -G DEB -B "$T/out" >"$T/cpack.log" 2>&1; then
  cat "$T/cpack.log" >&2
  echo "FAIL: cpack -G DEB" >&2
  exit 1
fi
VER=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$B/CPackConfig.cmake")
check "version known" test -n "$VER"
for p in libvouch0 libvouch-dev vouch; do
  f=$(ls "$T/out/${p}_${VER}-1_"*.deb 2>/dev/null)
  check "$p: one package" test -f "$f"
  eval "DEB_${p//-/_}=\$f"
done
field() { dpkg-deb -f "$1" "$2"; }

# dependencies: the -dev package pins the library's exact version; the rest
# come from dpkg-shlibdeps, and every name must be a real package (the ones
# this build links against are installed here)
check "dev depends on libvouch0 (= $VER-1)" bash -c "dpkg-deb -f '$DEB_libvouch_dev' Depends | grep -q 'libvouch0 (= $VER-1)'"
for want in libjpeg62-turbo libsodium23 libsqlite3-0 libc6; do
  check "libvouch0 depends on $want" bash -c "dpkg-deb -f '$DEB_libvouch0' Depends | grep -q '\\b$want\\b'"
done
check "vouch depends on libmicrohttpd12" bash -c "dpkg-deb -f '$DEB_vouch' Depends | grep -q libmicrohttpd12"
check "vouch (static libvouch) does not depend on libvouch0" bash -c "! dpkg-deb -f '$DEB_vouch' Depends | grep -q libvouch0"
for f in "$DEB_libvouch0" "$DEB_libvouch_dev" "$DEB_vouch"; do
  for dep in $(field "$f" Depends | tr ',|' '\n\n' | sed 's/(.*)//; s/ //g' | grep -v '^libvouch0$'); do
    check "$(basename "$f"): dependency $dep is an installed package" \
      bash -c "dpkg-query -W -f='\${Status}' '$dep' 2>/dev/null | grep -q 'install ok installed'"
  done
done
check "libvouch0 has a shlibs file" bash -c "dpkg-deb --ctrl-tarfile '$DEB_libvouch0' | tar -xO ./shlibs | grep -q '^libvouch 0 libvouch0'"
check "libvouch0 runs ldconfig" bash -c "dpkg-deb --ctrl-tarfile '$DEB_libvouch0' | tar -xO ./postinst | grep -q ldconfig"

# contents
dpkg-deb -c "$DEB_libvouch0" > "$T/lib.txt"
dpkg-deb -c "$DEB_libvouch_dev" > "$T/dev.txt"
dpkg-deb -c "$DEB_vouch" > "$T/bin.txt"
check "libvouch0: the versioned library" grep -q "/usr/lib/.*libvouch\.so\.$VER\$" "$T/lib.txt"
check "libvouch0: no headers, no .so link" bash -c "! grep -qE 'include/|libvouch\\.so ->' '$T/lib.txt'"
for f in include/vouch/vouch.h include/vouch/index.h 'libvouch\.a' 'libvouch\.so -> ' pkgconfig/vouch.pc cmake/vouch/vouchConfig.cmake; do
  check "libvouch-dev: $f" grep -q "$f" "$T/dev.txt"
done
for f in usr/bin/vouch usr/bin/vouchd man1/vouch.1 man8/vouchd.8 systemd/system/vouchd.service; do
  check "vouch: $f" grep -q "$f" "$T/bin.txt"
done

# unpacked into a scratch root
R=$T/root
for f in "$DEB_libvouch0" "$DEB_libvouch_dev" "$DEB_vouch"; do dpkg -x "$f" "$R"; done
"$R/usr/bin/vouch" --version > "$T/version"
check "installed vouch --version runs" test $? -eq 0
check "installed vouch --version says $VER" grep -q "$VER" "$T/version"
"$R/usr/bin/vouch" hash --exact "$EX/bridge.jpg" > "$T/hash"
check "installed vouch hashes an example (reference PDQ)" grep -q "^$REF 100 " "$T/hash"
"$R/usr/bin/vouchd" --help > /dev/null
check "installed vouchd --help runs" test $? -eq 0

LIBDIR=$(dirname "$(find "$R" -name libvouch.so.0)")
cat > "$T/prog.c" <<'C'
#include <stdio.h>
#include <vouch/vouch.h>
int main(int argc, char **argv) {
  if (argc != 2 || vouch_init() < 0) return 2;
  if (vouch_version_number() != VOUCH_VERSION_NUMBER) return 3;
  vouch_decoder *dec = NULL; vouch_hasher *h = NULL;
  uint8_t pdq[VOUCH_PDQ_BYTES]; char hex[VOUCH_HASH_HEX_BYTES]; int q;
  vouch_image img = {0};
  int rc = vouch_decoder_create(&dec, NULL);
  if (rc == VOUCH_OK) rc = vouch_hasher_create(&h);
  if (rc == VOUCH_OK) rc = vouch_decoder_decode_file(dec, argv[1], &img);
  if (rc == VOUCH_OK) rc = vouch_hash_image(h, VOUCH_ALGO_PDQ, &img, 0, pdq, sizeof pdq, &q);
  if (rc == VOUCH_OK) rc = vouch_hash_to_hex(pdq, sizeof pdq, hex, sizeof hex);
  if (rc == VOUCH_OK) printf("%s %d\n", hex, q); else fprintf(stderr, "%s\n", vouch_strerror(rc));
  vouch_image_clear(&img); vouch_hasher_free(h); vouch_decoder_free(dec);
  return rc == VOUCH_OK ? 0 : 1;
}
C
PC=$(dirname "$(find "$R" -name vouch.pc)")
flags=$(PKG_CONFIG_PATH=$PC pkg-config --cflags --libs vouch)
check "pkg-config finds the unpacked vouch.pc" test $? -eq 0
check "pkg-config points into the scratch root" bash -c "[[ '$flags' == *'-I$R/usr/'* && '$flags' == *'-L$R/usr/'* ]]"
# shellcheck disable=SC2086
cc -std=c11 -o "$T/prog" "$T/prog.c" $flags
check "a C program builds with pkg-config" test $? -eq 0
check "it loads the unpacked libvouch.so.0" bash -c "LD_LIBRARY_PATH='$LIBDIR' ldd '$T/prog' | grep -q '$LIBDIR/libvouch.so.0'"
LD_LIBRARY_PATH=$LIBDIR "$T/prog" "$EX/bridge.jpg" > "$T/prog.out"
check "it hashes bridge.jpg to the reference" grep -q "^$REF 100\$" "$T/prog.out"

mkdir -p "$T/cm"
cp "$T/prog.c" "$T/cm/prog.c"
cat > "$T/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(usevouch C)
find_package(vouch 0.1 REQUIRED)
add_executable(prog prog.c)
target_link_libraries(prog PRIVATE vouch::vouch)
CM
cmake -S "$T/cm" -B "$T/cm/b" -DCMAKE_PREFIX_PATH="$R/usr" >"$T/cm.log" 2>&1 && cmake --build "$T/cm/b" >>"$T/cm.log" 2>&1
check "a C program builds with find_package(vouch)" test $? -eq 0 || cat "$T/cm.log" >&2
LD_LIBRARY_PATH=$LIBDIR "$T/cm/b/prog" "$EX/bridge.jpg" > "$T/cm.out"
check "that one hashes bridge.jpg to the reference" grep -q "^$REF 100\$" "$T/cm.out"

# the unit's sandbox, scored by systemd (0 = most locked down, 10 = none)
U=$(find "$R" -name vouchd.service)
check "unit runs vouchd from /usr/bin" grep -q '^ExecStart=/usr/bin/vouchd ' "$U"
for k in DynamicUser=yes ProtectSystem=strict StateDirectory=vouchd; do
  check "unit: $k" grep -q "^$k\$" "$U"
done
if systemd-analyze --help 2>/dev/null | grep -q -- --offline; then
  systemd-analyze security --offline=yes --threshold=20 "$U" > "$T/security" 2>&1
  check "systemd-analyze security: exposure at most 2.0" test $? -eq 0 || tail -3 "$T/security" >&2
else
  echo "note: systemd-analyze (systemd >= 250) absent: the unit's exposure score was not computed"
fi

echo "deb: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
