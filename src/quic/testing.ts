/**
 * A self-signed ECDSA P-256 certificate for `localhost` (SAN DNS:localhost, IP:127.0.0.1, IP:::1),
 * valid 2026-11-22 to 2046-11-17, and its private key: for examples, tests and local experiments ONLY.
 * The private key is published here, so anything it authenticates is authenticated to nobody. Clients
 * trust it by pinning it (compare the leaf with {@link TEST_CERTIFICATE}.der) or with the Node verifier
 * and `ca: [TEST_CERTIFICATE.pem]`.
 */

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export const TEST_CERTIFICATE = Object.freeze({
  /** PEM of the certificate. */
  pem: '-----BEGIN CERTIFICATE-----\nMIIBrDCCAVKgAwIBAgIUPb7o9DOpbc4ZalRqVfiPVQumui8wCgYIKoZIzj0EAwIw\nFDESMBAGA1UEAwwJbG9jYWxob3N0MB4XDTI2MTEyMjA1NTQzNloXDTQ2MTExNzA1\nNTQzNlowFDESMBAGA1UEAwwJbG9jYWxob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0D\nAQcDQgAEwvRCifr7smneKBCNX+LfMB/COiSBajyUeGvBgru/zD6GBxBYdvzInlnd\nMvdj9wQJrrO3HuO0R75k+oj0HdmfP6OBgTB/MB0GA1UdDgQWBBRlYisPv0sFd3GE\nlW0U1htrStCmHzAfBgNVHSMEGDAWgBRlYisPv0sFd3GElW0U1htrStCmHzAPBgNV\nHRMBAf8EBTADAQH/MCwGA1UdEQQlMCOCCWxvY2FsaG9zdIcEfwAAAYcQAAAAAAAA\nAAAAAAAAAAAAATAKBggqhkjOPQQDAgNIADBFAiAVuGX8+nJ2E9oltFTICXKQxPFc\nC5cNvYvlAP+nImgINgIhANyWnUdjzeuFUFnvdxEzJ7pjE33M0q0c0BhAFLm6mt80\n-----END CERTIFICATE-----\n',
  /** PKCS#8 PEM of the private key (for the Node provider's loadPrivateKey). */
  keyPem:
    '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguzIX0qkv8g3NsRrE\nx9mbHwaDafdtZMwmTUY/QdrFChKhRANCAATC9EKJ+vuyad4oEI1f4t8wH8I6JIFq\nPJR4a8GCu7/MPoYHEFh2/MieWd0y92P3BAmus7ce47RHvmT6iPQd2Z8/\n-----END PRIVATE KEY-----\n',
  /** DER of the certificate (the chain to serve is [der]). */
  der: fromHex(
    '308201ac30820152a00302010202143dbee8f433a96dce196a546a55f88f550ba6ba2f300a06082a8648ce3d040302301431' +
      '12301006035504030c096c6f63616c686f7374301e170d3236313132323035353433365a170d343631313137303535343336' +
      '5a30143112301006035504030c096c6f63616c686f73743059301306072a8648ce3d020106082a8648ce3d03010703420004' +
      'c2f44289fafbb269de28108d5fe2df301fc23a24816a3c94786bc182bbbfcc3e8607105876fcc89e59dd32f763f70409aeb3' +
      'b71ee3b447be64fa88f41dd99f3fa38181307f301d0603551d0e0416041465622b0fbf4b05777184956d14d61b6b4ad0a61f' +
      '301f0603551d2304183016801465622b0fbf4b05777184956d14d61b6b4ad0a61f300f0603551d130101ff040530030101ff' +
      '302c0603551d110425302382096c6f63616c686f737487047f000001871000000000000000000000000000000001300a0608' +
      '2a8648ce3d0403020348003045022015b865fcfa727613da25b454c8097290c4f15c0b970dbd8be500ffa722680836022100' +
      'dc969d4763cdeb855059ef77113327ba63137dccd2ad1cd0184014b9ba9adf34',
  ),
  /** The raw P-256 private scalar (for a provider's createSigner({ type: 'ecdsa-p256', privateKey })). */
  privateKey: fromHex('bb3217d2a92ff20dcdb11ac4c7d99b1f068369f76d64cc264d463f41dac50a12'),
});
