# tests/cli/lib/forged_vouchers.sh -- sourced by the second-hash tests
# (second_hash.sh, second_bank.sh) in their scratch directory, with V, EX,
# check, the database's hashes in db.txt and wee.jpg's PDQ hash in $1 of
# forged_vouchers: a photo forged to collide with wee.jpg bit for bit
# (`vouch eval attack`, forged.png), PSI public data for db.txt (server.key,
# public.vpd) and, in v/, one account's two vouchers at threshold 1: a
# genuine edit of bridge.jpg and the forgery.
forged_vouchers() {
  $V eval attack --radius 0 --target "$1" -o forged.png "$EX/bridge-rotated.jpg" >/dev/null
  check "forgery made" test "$($V hash --exact forged.png | cut -d' ' -f1)" = "$1"
  $V psi setup --hashes db.txt --key server.key -o public.vpd > setup.out 2>/dev/null
  local signer
  signer=$(awk '/^signer/{print $2}' setup.out)
  # --synthetic-rate 0: the tests count the two real matches exactly (synthetic
  # vouchers, on by default, would hide one of them half of the time)
  $V psi voucher --public public.vpd --signer "$signer" --account a.key --threshold 1 --synthetic-rate 0 -o v \
    "$EX/bridge-blurred.jpg" forged.png >/dev/null 2>&1
  check "vouchers made" test "$(ls v | wc -l)" -eq 2
}
