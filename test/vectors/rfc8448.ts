/**
 * Test vectors from RFC 8448, "Example Handshake Traces for TLS 1.3" (January 2019).
 *
 * Every hex string below is copied from the RFC text, byte for byte (spaces and line breaks
 * removed); the comment above each constant names the section, the step of the trace
 * ("{server}  derive secret ...") and the field it comes from. Nothing here was produced by
 * pullwire: tests compare our computations against these values.
 *
 * Sections used: 2 (the server's RSA key), 3 (simple 1-RTT handshake, X25519, RSA-PSS
 * certificate, TLS_AES_128_GCM_SHA256), 4 (resumed 0-RTT handshake with a PSK binder),
 * 5 (HelloRetryRequest from X25519 to P-256), and the handshake messages of sections 6
 * (client authentication) and 7 (compatibility mode).
 */

export const RFC8448 = {
  /** Section 2, "Private Keys": the server's RSA key, used in sections 3 to 7. */
  rsaKey: {
    /** Section 2, server RSA key: modulus (public) (128 octets). */
    modulus:
      'b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af1' +
      '9eaa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8c' +
      'a9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f',
    /** Section 2, server RSA key: public exponent (3 octets). */
    publicExponent: '010001',
    /** Section 2, server RSA key: private exponent (128 octets). */
    privateExponent:
      '04dea705d43a6ea7209dd8072111a83c81e322a59278b33480641eaf7c0a6985b8e31c44f6de62e1b4c2309f6126e77b' +
      '7c41e923314bbfa3881305dc1217f16c819ce538e922f369828d0e57195d8c8488460207b2faa726bcf708bbd7db7f67' +
      '9f893492fc2a622e08970aac441ce4e0c3088df25ae679233df8a3bda2ff9941',
    /** Section 2, server RSA key: prime1 (64 octets). */
    prime1:
      'e435fb7cc83737756dacea96ab7f59a2cc1069db7deb190e17e33a532b273f30a327aa0aaabc58cd67466af9845fadc6' +
      '75fe094af92c4bd1f2c1bc33dd2e0515',
    /** Section 2, server RSA key: prime2 (64 octets). */
    prime2:
      'cabd3bc0e0438664c8d4cc9f99977a94d9bbfead8e43870abae3f7eb8b4e0eee8af1d9b4719ba6196cf2cbbaeeebf8b3' +
      '490afe9e9ffa74a88aa51fc645629303',
    /** Section 2, server RSA key: exponent1 (64 octets). */
    exponent1:
      '3f57345c27fe1b687e6e761627b78b1b826433dd760fa0bea6a6acf39490aa1b47cda4869d68f584dd5b5029bd32093b' +
      '8258661fe715025e5d70a45a08d3d319',
    /** Section 2, server RSA key: exponent2 (64 octets). */
    exponent2:
      '183da01363bd2f2885cacbdc9964bf4764f1517636f86401286f71893c52ccfe40a6c23d0d086b47c6fb10d8fd1041e0' +
      '4def7e9a40ce957c417794e10412d139',
    /** Section 2, server RSA key: coefficient (64 octets). */
    coefficient:
      '839ca9a085e4286b2c90e466997a2c681f21339aa3477814e4dec11833050ed50dd13cc038048a43c59b2acc416889c0' +
      '37665fe5afa605969f8c01dfa5ca969d',
  },
  /** Section 3, "Simple 1-RTT Handshake". */
  simple: {
    /** Section 3, {client} create an ephemeral x25519 key pair: private key (32 octets). */
    clientPrivateKey: '49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005',
    /** Section 3, {client} create an ephemeral x25519 key pair: public key (32 octets). */
    clientPublicKey: '99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c',
    /** Section 3, {client} construct a ClientHello handshake message: ClientHello (196 octets). */
    clientHello:
      '010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece700000613011303130201' +
      '0000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400' +
      '230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b00' +
      '03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c' +
      '00024001',
    /** Section 3, {server} extract secret "early": secret (32 octets). */
    earlySecret: '33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a',
    /** Section 3, {server} create an ephemeral x25519 key pair: private key (32 octets). */
    serverPrivateKey: 'b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e',
    /** Section 3, {server} create an ephemeral x25519 key pair: public key (32 octets). */
    serverPublicKey: 'c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f',
    /** Section 3, {server} construct a ServerHello handshake message: ServerHello (90 octets). */
    serverHello:
      '020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024' +
      '001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304',
    /** Section 3, {server} derive secret for handshake "tls13 derived": hash (32 octets). */
    emptyHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    /** Section 3, {server} derive secret for handshake "tls13 derived": expanded (32 octets). */
    derivedForHandshake: '6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba',
    /** Section 3, {server} extract secret "handshake": IKM (32 octets). */
    sharedSecret: '8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d',
    /** Section 3, {server} extract secret "handshake": secret (32 octets). */
    handshakeSecret: '1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac',
    /** Section 3, {server} derive secret "tls13 c hs traffic": hash (32 octets). */
    helloHash: '860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8',
    /** Section 3, {server} derive secret "tls13 c hs traffic": expanded (32 octets). */
    clientHandshakeTrafficSecret: 'b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21',
    /** Section 3, {server} derive secret "tls13 s hs traffic": expanded (32 octets). */
    serverHandshakeTrafficSecret: 'b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38',
    /** Section 3, {server} derive secret for master "tls13 derived": expanded (32 octets). */
    derivedForMaster: '43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4',
    /** Section 3, {server} extract secret "master": secret (32 octets). */
    masterSecret: '18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919',
    /** Section 3, {server} derive write traffic keys for handshake data: key expanded (16 octets). */
    serverHandshakeKey: '3fce516009c21727d0f2e4e86ee403bc',
    /** Section 3, {server} derive write traffic keys for handshake data: iv expanded (12 octets). */
    serverHandshakeIv: '5d313eb2671276ee13000b30',
    /** Section 3, {server} construct an EncryptedExtensions handshake message: EncryptedExtensions (40 octets). */
    encryptedExtensions: '080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000',
    /** Section 3, {server} construct a Certificate handshake message: Certificate (445 octets). */
    certificate:
      '0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a' +
      '06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a' +
      '0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d98' +
      '0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312' +
      '0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0' +
      '3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355' +
      '1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f' +
      '8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102' +
      '702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8' +
      'f8961229ac9187b42b4de10000',
    /** Section 3, {server} construct a CertificateVerify handshake message: CertificateVerify (136 octets). */
    certificateVerify:
      '0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d3' +
      '3a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c' +
      '9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3',
    /** Section 3, {server} calculate finished "tls13 finished": expanded (32 octets). */
    serverFinishedKey: '008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8',
    /** Section 3, {server} calculate finished "tls13 finished": finished (32 octets). */
    serverVerifyData: '9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718',
    /** Section 3, {server} construct a Finished handshake message: Finished (36 octets). */
    serverFinished: '140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718',
    /** Section 3, {server} derive secret "tls13 c ap traffic": hash (32 octets). */
    serverFinishedHash: '9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13',
    /** Section 3, {server} derive secret "tls13 c ap traffic": expanded (32 octets). */
    clientApplicationTrafficSecret: '9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5',
    /** Section 3, {server} derive secret "tls13 s ap traffic": expanded (32 octets). */
    serverApplicationTrafficSecret: 'a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643',
    /** Section 3, {server} derive secret "tls13 exp master": expanded (32 octets). */
    exporterMasterSecret: 'fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50',
    /** Section 3, {server} derive write traffic keys for application data: key expanded (16 octets). */
    serverApplicationKey: '9f02283b6c9c07efc26bb9f2ac92e356',
    /** Section 3, {server} derive write traffic keys for application data: iv expanded (12 octets). */
    serverApplicationIv: 'cf782b88dd83549aadf1e984',
    /** Section 3, {server} derive read traffic keys for handshake data: key expanded (16 octets). */
    clientHandshakeKey: 'dbfaa693d1762c5b666af5d950258d01',
    /** Section 3, {server} derive read traffic keys for handshake data: iv expanded (12 octets). */
    clientHandshakeIv: '5bd3c71b836e0b76bb73265f',
    /** Section 3, {client} calculate finished "tls13 finished": expanded (32 octets). */
    clientFinishedKey: 'b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4',
    /** Section 3, {client} calculate finished "tls13 finished": finished (32 octets). */
    clientVerifyData: 'a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61',
    /** Section 3, {client} construct a Finished handshake message: Finished (36 octets). */
    clientFinished: '14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61',
    /** Section 3, {client} derive write traffic keys for application data: key expanded (16 octets). */
    clientApplicationKey: '17422dda596ed5d9acd890e3c63f5051',
    /** Section 3, {client} derive write traffic keys for application data: iv expanded (12 octets). */
    clientApplicationIv: '5b78923dee08579033e523d9',
    /** Section 3, {client} derive secret "tls13 res master": hash (32 octets). */
    clientFinishedHash: '209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d',
    /** Section 3, {client} derive secret "tls13 res master": expanded (32 octets). */
    resumptionMasterSecret: '7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c',
    /** Section 3, {server} generate resumption secret "tls13 resumption": hash (2 octets). */
    ticketNonce: '0000',
    /** Section 3, {server} generate resumption secret "tls13 resumption": expanded (32 octets). */
    resumptionPsk: '4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3',
    /** Section 3, {server} construct a NewSessionTicket handshake message: NewSessionTicket (205 octets). */
    newSessionTicket:
      '040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf' +
      '1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827' +
      'db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228' +
      'bda40dda721470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934a' +
      'e4d3570008002a000400000400',
    /** Section 3, {server} send handshake record (the second one): payload (657 octets): EncryptedExtensions through Finished. */
    serverFlight:
      '080000240022000a00140012001d00170018001901000101010201030104001c00024001000000000b0001b9000001b5' +
      '0001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a0603550403130372' +
      '7361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a0603550403130372' +
      '736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c' +
      '0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0cc' +
      'b0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a' +
      '8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b0603551d0f0404030205a0' +
      '300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594' +
      '365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1' +
      'fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4' +
      '2b4de100000f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc' +
      '90db78e2d33a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671' +
      '459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3140000' +
      '209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718',
  },
  /** Section 4, "Resumed 0-RTT Handshake" (resumes the session of section 3). */
  resumed: {
    /** Section 4, {client} create an ephemeral x25519 key pair: private key (32 octets). */
    clientPrivateKey: 'bff91188283846dd6a2134ef7180ca2b0b14fb10dce707b5098c0dddc813b2df',
    /** Section 4, {client} create an ephemeral x25519 key pair: public key (32 octets). */
    clientPublicKey: 'e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b',
    /** Section 4, {client} extract secret "early": IKM (32 octets). */
    psk: '4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3',
    /** Section 4, {client} extract secret "early": secret (32 octets). */
    earlySecret: '9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c',
    /** Section 4, {client} calculate PSK binder: ClientHello prefix (477 octets). */
    clientHelloPrefix:
      '010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d9500000613011303130201' +
      '0001cd0000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400' +
      '3300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b002a0000002b00' +
      '03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c' +
      '000240010015005700000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '2900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c936' +
      '7c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3' +
      '664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf2' +
      '97b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb',
    /** Section 4, {client} calculate PSK binder: binder hash (32 octets). */
    binderHash: '63224b2e4573f2d3454ca84b9d009a04f6be9e05711a8396473aefa01e924a14',
    /** Section 4, {client} calculate PSK binder: PRK (32 octets). */
    binderKey: '69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256',
    /** Section 4, {client} calculate PSK binder: expanded (32 octets). */
    binderFinishedKey: '5588673e72cb59c87d220caffe94f2dea9a3b1609f7d50e90a48227db9ed7eaa',
    /** Section 4, {client} calculate PSK binder: finished (32 octets). */
    binder: '3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d',
    /** Section 4, {client} send handshake record: payload (512 octets): the whole ClientHello, binders included. */
    clientHello:
      '010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d9500000613011303130201' +
      '0001cd0000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400' +
      '3300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b002a0000002b00' +
      '03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c' +
      '000240010015005700000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '2900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c936' +
      '7c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3' +
      '664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf2' +
      '97b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb002120' +
      '3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d',
    /** Section 4, {client} derive secret "tls13 c e traffic": hash (32 octets). */
    clientHelloHash: '08ad0fa05d7c7233b1775ba2ff9f4c5b8b59276b7f227f13a976245f5d960913',
    /** Section 4, {client} derive secret "tls13 c e traffic": expanded (32 octets). */
    clientEarlyTrafficSecret: '3fbbe6a60deb66c30a32795aba0eff7eaa10105586e7be5c09678d63b6caab62',
    /** Section 4, {client} derive secret "tls13 e exp master": expanded (32 octets). */
    earlyExporterMasterSecret: 'b2026866610937d7423e5be90862ccf24c0e6091186d34f812089ff5be2ef7df',
    /** Section 4, {client} derive write traffic keys for early application data: key expanded (16 octets). */
    clientEarlyKey: '920205a5b7bf2115e6fc5c2942834f54',
    /** Section 4, {client} derive write traffic keys for early application data: iv expanded (12 octets). */
    clientEarlyIv: '6d475f0993c8e564610db2b9',
    /** Section 4, {server} create an ephemeral x25519 key pair: private key (32 octets). */
    serverPrivateKey: 'de5b4476e7b490b2652d338acbf2948066f255f9440e23b98fc69835298dc107',
    /** Section 4, {server} create an ephemeral x25519 key pair: public key (32 octets). */
    serverPublicKey: '121761ee42c333e1b9e77b60dd57c2053cd94512ab47f115e86eff50942cea31',
    /** Section 4, {server} construct a ServerHello handshake message: ServerHello (96 octets). */
    serverHello:
      '0200005c03033ccfd2dec890222763472ae8136777c9d7358777bb66e91ea5122495f559ea2d00130100003400290002' +
      '000000330024001d0020121761ee42c333e1b9e77b60dd57c2053cd94512ab47f115e86eff50942cea31002b00020304',
    /** Section 4, {server} extract secret "handshake": IKM (32 octets). */
    sharedSecret: 'f44194756ff9ec9d25180635d66ea6824c6ab3bf179977be37f723570e7ccb2e',
    /** Section 4, {server} extract secret "handshake": secret (32 octets). */
    handshakeSecret: '005cb112fd8eb4ccc623bb88a07c64b3ede1605363fc7d0df8c7ce4ff0fb4ae6',
    /** Section 4, {server} derive secret "tls13 c hs traffic": hash (32 octets). */
    helloHash: 'f736cb34fe25e701551bee6fd24c1cc7102a7daf9405cb15d97aafe16f757d03',
    /** Section 4, {server} derive secret "tls13 c hs traffic": expanded (32 octets). */
    clientHandshakeTrafficSecret: '2faac08f851d35fea3604fcb4de82dc62c9b164a70974d0462e27f1ab278700f',
    /** Section 4, {server} derive secret "tls13 s hs traffic": expanded (32 octets). */
    serverHandshakeTrafficSecret: 'fe927ae271312e8bf0275b581c54eef020450dc4ecffaa05a1a35d27518e7803',
    /** Section 4, {server} extract secret "master": secret (32 octets). */
    masterSecret: 'e2d32d4ed66dd37897a0e80c84107503ce58bf8aad4cb55a5002d77ecb890ece',
    /** Section 4, {server} construct an EncryptedExtensions handshake message: EncryptedExtensions (44 octets). */
    encryptedExtensions: '080000280026000a00140012001d00170018001901000101010201030104001c0002400100000000002a0000',
    /** Section 4, {server} calculate finished "tls13 finished": finished (32 octets). */
    serverVerifyData: '48d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2',
    /** Section 4, {server} construct a Finished handshake message: Finished (36 octets). */
    serverFinished: '1400002048d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2',
    /** Section 4, {server} derive secret "tls13 c ap traffic": hash (32 octets). */
    serverFinishedHash: 'b0aeffc46a2cfe33114e6fd7d51f9f04b1ca3c497dab08934a774a9d9ad7dbf3',
    /** Section 4, {server} derive secret "tls13 c ap traffic": expanded (32 octets). */
    clientApplicationTrafficSecret: '2abbf2b8e381d23dbebe1dd2a7d16a8bf484cb4950d23fb7fb7fa8547062d9a1',
    /** Section 4, {server} derive secret "tls13 s ap traffic": expanded (32 octets). */
    serverApplicationTrafficSecret: 'cc21f1bf8feb7dd5fa505bd9c4b468a9984d554a993dc49e6d285598fb672691',
    /** Section 4, {server} derive secret "tls13 exp master": expanded (32 octets). */
    exporterMasterSecret: '3fd93d4ffddc98e64b14dd107aedf8ee4add23f4510f58a4592d0b201bee56b4',
    /** Section 4, {client} construct an EndOfEarlyData handshake message: EndOfEarlyData (4 octets). */
    endOfEarlyData: '05000000',
    /** Section 4, {client} calculate finished "tls13 finished": finished (32 octets). */
    clientVerifyData: '7230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd32bda416d',
    /** Section 4, {client} construct a Finished handshake message: Finished (36 octets). */
    clientFinished: '140000207230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd32bda416d',
    /** Section 4, {client} derive secret "tls13 res master": hash (32 octets). */
    clientFinishedHash: 'c3c122e0bd907a4a3ff6112d8fd53dbf89c773d9552e8b6b9d56d361b3a97bf6',
    /** Section 4, {client} derive secret "tls13 res master": expanded (32 octets). */
    resumptionMasterSecret: '5e95bdf1f89005ea2e9aa0ba85e728e3c19c5fe0c699e3f5bee59faebd0b5406',
  },
  /** Section 5, "HelloRetryRequest" (the client offers X25519, the server asks for P-256). */
  helloRetry: {
    /** Section 5, {client} create an ephemeral x25519 key pair: private key (32 octets). */
    clientX25519PrivateKey: '0ed02f8e8117efc75ca7ac32aa7e34eda64cdc0ddad154a5e85289f959f63204',
    /** Section 5, {client} create an ephemeral x25519 key pair: public key (32 octets). */
    clientX25519PublicKey: 'e8e8e3f3b93a25ed97a14a7dcacb8a272c6288e585c6484d05262fcad062ad1f',
    /** Section 5, {client} construct a ClientHello handshake message: ClientHello (180 octets). */
    clientHello1:
      '010000b00303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f00000613011303130201' +
      '0000810000000b0009000006736572766572ff01000100000a00080006001d00170018003300260024001d0020e8e8e3' +
      'f3b93a25ed97a14a7dcacb8a272c6288e585c6484d05262fcad062ad1f002b0003020304000d0020001e040305030603' +
      '020308040805080604010501060102010402050206020202002d00020101001c00024001',
    /** Section 5, {server} construct a ServerHello handshake message: ServerHello (176 octets). */
    helloRetryRequest:
      '020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c00130100008400330002' +
      '0017002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd0030953f4edf6256' +
      '36e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16' +
      'aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934b0002b00020304',
    /** Section 5, {client} create an ephemeral P-256 key pair: private key (32 octets). */
    clientP256PrivateKey: 'ab5473467e19346ceb0a0414e41da21d4d2445bc3025afe97c4e8dc8d513da39',
    /** Section 5, {client} create an ephemeral P-256 key pair: public key (65 octets). */
    clientP256PublicKey:
      '04a6da7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f0151812677c4d6d2237e85cf01d6910cfb' +
      '83954e76ba7352830534159897e8065780',
    /** Section 5, {client} construct a ClientHello handshake message: ClientHello (512 octets). */
    clientHello2:
      '010001fc0303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f00000613011303130201' +
      '0001cd0000000b0009000006736572766572ff01000100000a00080006001d001700180033004700450017004104a6da' +
      '7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f0151812677c4d6d2237e85cf01d6910cfb83954e' +
      '76ba7352830534159897e8065780002b0003020304000d0020001e040305030603020308040805080604010501060102' +
      '010402050206020202002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd00' +
      '30953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b' +
      '0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934b0002d00020101001c00024001001500' +
      'af0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '0000000000000000000000000000000000000000000000000000000000000000',
    /** Section 5, {server} extract secret "early": secret (32 octets). */
    earlySecret: '33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a',
    /** Section 5, {server} create an ephemeral P-256 key pair: private key (32 octets). */
    serverP256PrivateKey: '8c510601f9765bfb8ed693449a48989859b5cfa879cb9f5443c41c5ff10634ed',
    /** Section 5, {server} create an ephemeral P-256 key pair: public key (65 octets). */
    serverP256PublicKey:
      '04583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b893052bd85b4c8de6776f5b04ac07d83540eab3e3' +
      'd9c547bc6528c4317d294686093a6cad7d',
    /** Section 5, {server} construct a ServerHello handshake message: ServerHello (123 octets). */
    serverHello:
      '020000770303bb341d847fd789c47c387172dc0c9bf147fccacb5043d86ca4c598d3ff571b9800130100004f00330045' +
      '0017004104583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b893052bd85b4c8de6776f5b04ac07d835' +
      '40eab3e3d9c547bc6528c4317d294686093a6cad7d002b00020304',
    /** Section 5, {server} extract secret "handshake": IKM (32 octets). */
    sharedSecret: 'c142ce13ca11b5c2233652e63ad3d97844f1621fbfb9de69d547dc8fedeabeb4',
    /** Section 5, {server} extract secret "handshake": secret (32 octets). */
    handshakeSecret: 'ce022e5e6e81e50736d773f2d3adfce8220d049bf510f0dbfac927ef4243b148',
    /** Section 5, {server} derive secret "tls13 c hs traffic": hash (32 octets). */
    helloHash: '8aa8e828ec2f8a884fec95a3139de01c15a3daa7ff5bfc3f4bfcc21b438d7bf8',
    /** Section 5, {server} derive secret "tls13 c hs traffic": expanded (32 octets). */
    clientHandshakeTrafficSecret: '158aa7ab8855073582b41d674b4055cabcc534728f659314861b4e08e2011566',
    /** Section 5, {server} derive secret "tls13 s hs traffic": expanded (32 octets). */
    serverHandshakeTrafficSecret: '3403e781e2af7b6508da28574f6e95a1abf162de83a97927c37672a4a0cef8a1',
    /** Section 5, {server} extract secret "master": secret (32 octets). */
    masterSecret: '1131545d0baf79ddce9b87f06945781a57dd18ef378dcd2060f8f9a569027ed8',
    /** Section 5, {server} construct an EncryptedExtensions handshake message: EncryptedExtensions (28 octets). */
    encryptedExtensions: '080000180016000a0008000600170018001d001c0002400100000000',
    /** Section 5, {server} construct a Certificate handshake message: Certificate (445 octets). */
    certificate:
      '0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a' +
      '06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a' +
      '0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d98' +
      '0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312' +
      '0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0' +
      '3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355' +
      '1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f' +
      '8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102' +
      '702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8' +
      'f8961229ac9187b42b4de10000',
    /** Section 5, {server} construct a CertificateVerify handshake message: CertificateVerify (136 octets). */
    certificateVerify:
      '0f0000840804008033ab13d4462707231b5dcae6c8190b63d1dabc74f28c395370da0b07e5b83066d0246a31acd95df4' +
      '75bfd799a4a70d33ad93d3a317a9b2c0d237a5685b219e774112e391a247607d1aeff1bbd0a39f382ee1a5fe88ae99ec' +
      '59228e6497e45d48ce275a6d5ef40d169fb6f9d33b052ed3dcdd6b5a48baafffbcb290128415bd38',
    /** Section 5, {server} calculate finished "tls13 finished": finished (32 octets). */
    serverVerifyData: '8863e6bfb0420a927fa27f34336a70ae426e968e3eb884945b96856dba3976d1',
    /** Section 5, {server} construct a Finished handshake message: Finished (36 octets). */
    serverFinished: '140000208863e6bfb0420a927fa27f34336a70ae426e968e3eb884945b96856dba3976d1',
    /** Section 5, {server} derive secret "tls13 c ap traffic": hash (32 octets). */
    serverFinishedHash: '50f63cbf36b0dd049e7a0ba27d6455745ea2aaac54bb167f9950b2b7ce9509da',
    /** Section 5, {server} derive secret "tls13 c ap traffic": expanded (32 octets). */
    clientApplicationTrafficSecret: '75ecf4b972525aa0dcd057c9944d4cd5d82671d8843141d7dc2a4ff15a21dc51',
    /** Section 5, {server} derive secret "tls13 s ap traffic": expanded (32 octets). */
    serverApplicationTrafficSecret: '5c74f87df04225db0f8209c9de6429e49435fdefa7cad61864874d12f31cfc8d',
    /** Section 5, {server} derive secret "tls13 exp master": expanded (32 octets). */
    exporterMasterSecret: '7c06d3ae106a3a374ace4837b3985cac67780a6e2c5c04b58319d584df09d223',
    /** Section 5, {client} calculate finished "tls13 finished": finished (32 octets). */
    clientVerifyData: '23f52fdb0709a55bd7f79b991f25484087bcfd4d4380b12326a52a28b2e368e1',
    /** Section 5, {client} construct a Finished handshake message: Finished (36 octets). */
    clientFinished: '1400002023f52fdb0709a55bd7f79b991f25484087bcfd4d4380b12326a52a28b2e368e1',
    /** Section 5, {client} derive secret "tls13 res master": hash (32 octets). */
    clientFinishedHash: '0e8b349158b855fdcd0c11dbbc4e83e43caa6e483c6c65df53151888e50165f4',
    /** Section 5, {client} derive secret "tls13 res master": expanded (32 octets). */
    resumptionMasterSecret: '09170c6d472721566f9cf99b08699daff561ec8fb22d5a32c3f94ce009b69975',
  },
} as const;

/** One handshake message of a trace, as constructed by `who` (header included). */
export interface Rfc8448Message {
  readonly section: 3 | 4 | 5 | 6 | 7;
  readonly who: 'client' | 'server';
  /** The message name the RFC uses in its "construct a ... handshake message" step. */
  readonly name: string;
  readonly hex: string;
}

/**
 * Every "{client|server}  construct a ... handshake message" step of sections 3 to 7, in trace
 * order. The ClientHello of section 4 is shown there as the prefix its binders are computed over;
 * here it is the whole message, taken from the payload of the record sent after it. Section 5's
 * HelloRetryRequest is the first "ServerHello" of that section (RFC 8448 labels it so).
 */
export const RFC8448_MESSAGES: readonly Rfc8448Message[] = [
  // Section 3, {client} construct a ClientHello handshake message
  {
    section: 3,
    who: 'client',
    name: 'ClientHello',
    hex:
      '010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece700000613011303130201' +
      '0000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400' +
      '230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b00' +
      '03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c' +
      '00024001',
  },
  // Section 3, {server} construct a ServerHello handshake message
  {
    section: 3,
    who: 'server',
    name: 'ServerHello',
    hex:
      '020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024' +
      '001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304',
  },
  // Section 3, {server} construct an EncryptedExtensions handshake message
  {
    section: 3,
    who: 'server',
    name: 'EncryptedExtensions',
    hex: '080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000',
  },
  // Section 3, {server} construct a Certificate handshake message
  {
    section: 3,
    who: 'server',
    name: 'Certificate',
    hex:
      '0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a' +
      '06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a' +
      '0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d98' +
      '0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312' +
      '0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0' +
      '3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355' +
      '1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f' +
      '8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102' +
      '702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8' +
      'f8961229ac9187b42b4de10000',
  },
  // Section 3, {server} construct a CertificateVerify handshake message
  {
    section: 3,
    who: 'server',
    name: 'CertificateVerify',
    hex:
      '0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d3' +
      '3a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c' +
      '9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3',
  },
  // Section 3, {server} construct a Finished handshake message
  { section: 3, who: 'server', name: 'Finished', hex: '140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718' },
  // Section 3, {client} construct a Finished handshake message
  { section: 3, who: 'client', name: 'Finished', hex: '14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61' },
  // Section 3, {server} construct a NewSessionTicket handshake message
  {
    section: 3,
    who: 'server',
    name: 'NewSessionTicket',
    hex:
      '040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf' +
      '1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827' +
      'db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228' +
      'bda40dda721470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934a' +
      'e4d3570008002a000400000400',
  },
  // Section 4, {client} construct a ClientHello handshake message
  {
    section: 4,
    who: 'client',
    name: 'ClientHello',
    hex:
      '010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d9500000613011303130201' +
      '0001cd0000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400' +
      '3300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b002a0000002b00' +
      '03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c' +
      '000240010015005700000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '2900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c936' +
      '7c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3' +
      '664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf2' +
      '97b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb002120' +
      '3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d',
  },
  // Section 4, {server} construct a ServerHello handshake message
  {
    section: 4,
    who: 'server',
    name: 'ServerHello',
    hex:
      '0200005c03033ccfd2dec890222763472ae8136777c9d7358777bb66e91ea5122495f559ea2d00130100003400290002' +
      '000000330024001d0020121761ee42c333e1b9e77b60dd57c2053cd94512ab47f115e86eff50942cea31002b00020304',
  },
  // Section 4, {server} construct an EncryptedExtensions handshake message
  {
    section: 4,
    who: 'server',
    name: 'EncryptedExtensions',
    hex: '080000280026000a00140012001d00170018001901000101010201030104001c0002400100000000002a0000',
  },
  // Section 4, {server} construct a Finished handshake message
  { section: 4, who: 'server', name: 'Finished', hex: '1400002048d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2' },
  // Section 4, {client} construct an EndOfEarlyData handshake message
  { section: 4, who: 'client', name: 'EndOfEarlyData', hex: '05000000' },
  // Section 4, {client} construct a Finished handshake message
  { section: 4, who: 'client', name: 'Finished', hex: '140000207230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd32bda416d' },
  // Section 5, {client} construct a ClientHello handshake message
  {
    section: 5,
    who: 'client',
    name: 'ClientHello',
    hex:
      '010000b00303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f00000613011303130201' +
      '0000810000000b0009000006736572766572ff01000100000a00080006001d00170018003300260024001d0020e8e8e3' +
      'f3b93a25ed97a14a7dcacb8a272c6288e585c6484d05262fcad062ad1f002b0003020304000d0020001e040305030603' +
      '020308040805080604010501060102010402050206020202002d00020101001c00024001',
  },
  // Section 5, {server} construct a ServerHello handshake message
  {
    section: 5,
    who: 'server',
    name: 'ServerHello',
    hex:
      '020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c00130100008400330002' +
      '0017002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd0030953f4edf6256' +
      '36e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16' +
      'aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934b0002b00020304',
  },
  // Section 5, {client} construct a ClientHello handshake message
  {
    section: 5,
    who: 'client',
    name: 'ClientHello',
    hex:
      '010001fc0303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f00000613011303130201' +
      '0001cd0000000b0009000006736572766572ff01000100000a00080006001d001700180033004700450017004104a6da' +
      '7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f0151812677c4d6d2237e85cf01d6910cfb83954e' +
      '76ba7352830534159897e8065780002b0003020304000d0020001e040305030603020308040805080604010501060102' +
      '010402050206020202002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd00' +
      '30953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b' +
      '0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934b0002d00020101001c00024001001500' +
      'af0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
      '0000000000000000000000000000000000000000000000000000000000000000',
  },
  // Section 5, {server} construct a ServerHello handshake message
  {
    section: 5,
    who: 'server',
    name: 'ServerHello',
    hex:
      '020000770303bb341d847fd789c47c387172dc0c9bf147fccacb5043d86ca4c598d3ff571b9800130100004f00330045' +
      '0017004104583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b893052bd85b4c8de6776f5b04ac07d835' +
      '40eab3e3d9c547bc6528c4317d294686093a6cad7d002b00020304',
  },
  // Section 5, {server} construct an EncryptedExtensions handshake message
  { section: 5, who: 'server', name: 'EncryptedExtensions', hex: '080000180016000a0008000600170018001d001c0002400100000000' },
  // Section 5, {server} construct a Certificate handshake message
  {
    section: 5,
    who: 'server',
    name: 'Certificate',
    hex:
      '0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a' +
      '06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a' +
      '0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d98' +
      '0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312' +
      '0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0' +
      '3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355' +
      '1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f' +
      '8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102' +
      '702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8' +
      'f8961229ac9187b42b4de10000',
  },
  // Section 5, {server} construct a CertificateVerify handshake message
  {
    section: 5,
    who: 'server',
    name: 'CertificateVerify',
    hex:
      '0f0000840804008033ab13d4462707231b5dcae6c8190b63d1dabc74f28c395370da0b07e5b83066d0246a31acd95df4' +
      '75bfd799a4a70d33ad93d3a317a9b2c0d237a5685b219e774112e391a247607d1aeff1bbd0a39f382ee1a5fe88ae99ec' +
      '59228e6497e45d48ce275a6d5ef40d169fb6f9d33b052ed3dcdd6b5a48baafffbcb290128415bd38',
  },
  // Section 5, {server} construct a Finished handshake message
  { section: 5, who: 'server', name: 'Finished', hex: '140000208863e6bfb0420a927fa27f34336a70ae426e968e3eb884945b96856dba3976d1' },
  // Section 5, {client} construct a Finished handshake message
  { section: 5, who: 'client', name: 'Finished', hex: '1400002023f52fdb0709a55bd7f79b991f25484087bcfd4d4380b12326a52a28b2e368e1' },
  // Section 6, {client} construct a ClientHello handshake message
  {
    section: 6,
    who: 'client',
    name: 'ClientHello',
    hex:
      '010000bc03036a472236328b83af40386d3a3e1f1ce624fa4ed89ab865a4ff0f4144ce3ae23300000613011303130201' +
      '00008d0000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400' +
      '3300260024001d0020089cc2671f738d9a671e5b2e464981d05b76e361aa22aea91f1d49ca10a7a362002b0003020304' +
      '000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001',
  },
  // Section 6, {server} construct a ServerHello handshake message
  {
    section: 6,
    who: 'server',
    name: 'ServerHello',
    hex:
      '0200005603033b50fdf1c3d572e40e68953e7fff4e2758459c59afa0582c0ea032874255fe6e00130100002e00330024' +
      '001d00206c2e50e865919a6b5a12dfaf918f92b442567b0f89bc54478c6921366658f062002b00020304',
  },
  // Section 6, {server} construct an EncryptedExtensions handshake message
  {
    section: 6,
    who: 'server',
    name: 'EncryptedExtensions',
    hex: '080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000',
  },
  // Section 6, {server} construct a CertificateRequest handshake message
  {
    section: 6,
    who: 'server',
    name: 'CertificateRequest',
    hex: '0d000027000024000d0020001e040305030603020308040805080604010501060102010402050206020202',
  },
  // Section 6, {server} construct a Certificate handshake message
  {
    section: 6,
    who: 'server',
    name: 'Certificate',
    hex:
      '0b00013b000001370001323082012e3081d5a003020102020107300a06082a8648ce3d04030230133111300f06035504' +
      '0313086563647361323536301e170d3136303733303031323430305a170d3236303733303031323430305a3013311130' +
      '0f0603550403130865636473613235363059301306072a8648ce3d020106082a8648ce3d0301070342000408d5301615' +
      '75f4cfe7f154ee3448180086001e88431a79ee62ee6e2f83ef38ba61e9fb37f34e007a7df4d2f5b56d1f04ece45d621f' +
      '468406f5c3a15158948dd0a31a301830090603551d1304023000300b0603551d0f040403020780300a06082a8648ce3d' +
      '0403020348003045022100df30fd4507f5edd22c1a6ff86db479ca693feeca3b71b3f9ef556b2937c0594d022062e2a4' +
      '7250d320fea83c7e2dcb5b76a50e0200c09adbd13fee946e513e011d110000',
  },
  // Section 6, {server} construct a CertificateVerify handshake message
  {
    section: 6,
    who: 'server',
    name: 'CertificateVerify',
    hex:
      '0f00004b040300473045022100d7a4d34bd54f55fee1a89625678c3dd5e5f60dac73ec940c5c7b9304a02084a9022028' +
      '9f595ed488b9ac689a3d192b1a8bb38f34af7874c059c9806a1f38269353e8',
  },
  // Section 6, {server} construct a Finished handshake message
  { section: 6, who: 'server', name: 'Finished', hex: '1400002093b70cdf4781985b96345caac701b4e750d3042df1a689d8faca812251113c11' },
  // Section 6, {client} construct a Certificate handshake message
  {
    section: 6,
    who: 'client',
    name: 'Certificate',
    hex:
      '0b0001bf000001bb0001b6308201b23082011ba003020102020101300d06092a864886f70d01010b05003011310f300d' +
      '06035504031306636c69656e74301e170d3136303733303031323335395a170d3236303733303031323335395a301131' +
      '0f300d06035504031306636c69656e7430819f300d06092a864886f70d010101050003818d0030818902818100c38175' +
      'e004a68d093f823b9c379d201fbc0bb7a1c791905e3fbf76847e44e751ebbcd360bd945c81e5222bcc8846d3a8a0f93e' +
      '9bf5bebabd92edf1de1ff19021703e7ab6c0901513f97e39b111f09c9348971c7b211984a754cd45fe095af0ea423682' +
      '9bccf7a7fe9b2888e78ab477690a5b9e1ccbe91c6a4a0f97a7e02842010203010001a31a301830090603551d13040230' +
      '00300b0603551d0f040403020780300d06092a864886f70d01010b0500038181001a7a5a018532b022af0767d486160c' +
      'ff2d167a1915d23835b54594916dc680be5d2e626076c5d52722ebcc775d7d99f980be2fc94d34acf6cc00ba90cbcfb0' +
      '608aa1e7e3971ef0c07a41d47ad8345d1f81fe418a1cf41054429fd217bd777dc1cf08f05df90799c659361e0f1a8ee4' +
      'ac0f7897420bdbc823da80a2f2ba23081c0000',
  },
  // Section 6, {client} construct a CertificateVerify handshake message
  {
    section: 6,
    who: 'client',
    name: 'CertificateVerify',
    hex:
      '0f00008408040080186b2223b503a759c35dba0e9721b4b579138d5f0f5e6ec7feaaf27f3ad7f386c2c7bd7cb2be52fb' +
      'f5ed8393f406ee79369692ec7ac695651d858219e672a8eb7b2a677b640b46ab630edc5f3f2f8272b9c0d906f81f84dd' +
      'c5b8c7bcf955c78a3cf99e5016f73e04eb7dfcb28833f13e8f75ec2ff3581e2f098ad4157fd6d6ad',
  },
  // Section 6, {client} construct a Finished handshake message
  { section: 6, who: 'client', name: 'Finished', hex: '140000209afe2ba2f63a09d229d8a429e5b37ffd9fcc73bdb5911b82425972aa2892440f' },
  // Section 7, {client} construct a ClientHello handshake message
  {
    section: 7,
    who: 'client',
    name: 'ClientHello',
    hex:
      '010000dc03034e640a3f2c2738f09c9418bd78edccd7559d0531199276d4d92a0e9ee9d77d0920a80c165581a8e0d06c' +
      '0018d54d3a06dd32cfd4051eb026fad3fd0ba99269e6ef00061301130313020100008d0000000b000900000673657276' +
      '6572ff01000100000a00140012001d00170018001901000101010201030104003300260024001d00208e7292cf3056db' +
      'b0d25fcbe55c107dc9bbf83dd9708f39203ba341249a7d9b63002b0003020304000d0020001e04030503060302030804' +
      '0805080604010501060102010402050206020202002d00020101001c00024001',
  },
  // Section 7, {server} construct a ServerHello handshake message
  {
    section: 7,
    who: 'server',
    name: 'ServerHello',
    hex:
      '020000760303e5dd5948c435f7a38f0f0130708dc322d9df09abd4838117c183a7bb6d994f2c20a80c165581a8e0d06c' +
      '0018d54d3a06dd32cfd4051eb026fad3fd0ba99269e6ef130100002e00330024001d00203e30f0f4ba551afd62768341' +
      '175f5265e4daf0c8841617aa4fafdd2142320c22002b00020304',
  },
  // Section 7, {server} construct an EncryptedExtensions handshake message
  {
    section: 7,
    who: 'server',
    name: 'EncryptedExtensions',
    hex: '080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000',
  },
  // Section 7, {server} construct a Certificate handshake message
  {
    section: 7,
    who: 'server',
    name: 'Certificate',
    hex:
      '0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a' +
      '06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a' +
      '0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d98' +
      '0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312' +
      '0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0' +
      '3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355' +
      '1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f' +
      '8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102' +
      '702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8' +
      'f8961229ac9187b42b4de10000',
  },
  // Section 7, {server} construct a CertificateVerify handshake message
  {
    section: 7,
    who: 'server',
    name: 'CertificateVerify',
    hex:
      '0f00008408040080a2301a68dd1ceee6938fe9d40c46b9201b34d59952a37e06523a39cf8ba6c9c8b68ae94492af7805' +
      '16ed7b73c82812e99dd3fabea45e09d9c6848721c2808c61501b0c75e7fcaba5f78bef68a2c2b69b19558b3e40387eea' +
      '93d25c7781c1cc00e9f519f7e2e4adb73e76d66089000a2dc866c2ed30bba50a0d457f19dc6eb9f3',
  },
  // Section 7, {server} construct a Finished handshake message
  { section: 7, who: 'server', name: 'Finished', hex: '14000020c8c3a8f1bff5274061f4bc3a7caffbdc9616094ca625caa65f8e76ed46db74d3' },
  // Section 7, {client} construct a Finished handshake message
  { section: 7, who: 'client', name: 'Finished', hex: '14000020692cab155cc6c100ead60733d0617f6fb09b71aa1e8c9accbbbc9e8ed336c1dd' },
];
