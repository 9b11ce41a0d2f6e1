#!/usr/bin/env bash
# Test-only certificates for bench/tls.ts: for each key type (ECDSA P-256, Ed25519) a CA and a leaf for
# "localhost" signed by it, so that chain verification checks a real signature (a self-signed leaf
# trusted as its own anchor has no signature checked, by OpenSSL or by our verifiers).
#   <kind>-ca-{key,cert}.pem     CA:TRUE, keyUsage keyCertSign
#   <kind>-leaf-{key,cert}.pem   CN=localhost, SAN DNS:localhost + IP:127.0.0.1, serverAuth
# Keys are unencrypted PKCS#8 PEM; validity 10 years from now. Run from anywhere; writes next to itself.
set -euo pipefail
cd "$(dirname "$0")"
gen() {
  local kind=$1; shift
  openssl genpkey "$@" -out "$kind-ca-key.pem"
  openssl req -x509 -new -key "$kind-ca-key.pem" -out "$kind-ca-cert.pem" -days 3650 -subj "/CN=pullwire bench $kind CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  openssl genpkey "$@" -out "$kind-leaf-key.pem"
  openssl req -new -key "$kind-leaf-key.pem" -subj "/CN=localhost" -out "$kind-leaf.csr"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" > "$kind-leaf.ext"
  openssl x509 -req -in "$kind-leaf.csr" -CA "$kind-ca-cert.pem" -CAkey "$kind-ca-key.pem" -CAcreateserial \
    -days 3650 -extfile "$kind-leaf.ext" -out "$kind-leaf-cert.pem" 2>/dev/null
  rm -f "$kind-leaf.csr" "$kind-leaf.ext" "$kind-ca-cert.srl"
  openssl verify -CAfile "$kind-ca-cert.pem" "$kind-leaf-cert.pem"
}
gen ecdsa -algorithm EC -pkeyopt ec_paramgen_curve:P-256
gen ed25519 -algorithm ED25519
