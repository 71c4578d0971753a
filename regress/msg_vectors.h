/*
 * Test vectors for application messages and pairing (doc/protocol.md
 * quotes them).  Checked by regress/msg_test against libsodium, and
 * when they were made against a second, independent implementation
 * (Python's hashlib and cryptography packages).
 *
 * The controller's Ed25519 seed is the bytes 00 01 .. 1f, the worker's
 * 20 21 .. 3f, the pairing secret 40 41 .. 5f.
 */

#ifndef MSG_VECTORS_H
#define MSG_VECTORS_H

#define VEC_CONTROLLER_SEED \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define VEC_CONTROLLER_PK \
	"03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define VEC_CONTROLLER_ID	"03a107bff3ce10be1d70dd18e74bc099"

#define VEC_WORKER_SEED \
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define VEC_WORKER_PK \
	"29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
#define VEC_WORKER_ID		"29acbae141bccaf0b22e1a94d34d0bc7"

/* A ping from the controller to the worker: 195 bytes, no newline. */
#define VEC_TS			1700000000000LL
#define VEC_BODY \
	"{\"id\":\"6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f\",\"type\":\"ping\"," \
	"\"from\":\"03a107bff3ce10be1d70dd18e74bc099\"," \
	"\"to\":\"29acbae141bccaf0b22e1a94d34d0bc7\"," \
	"\"ts\":1700000000000,\"payload\":{\"sentAt\":1700000000000}}"
#define VEC_BODY_LEN		195

/* BLAKE2b-512 of the body. */
#define VEC_BODY_HASH \
	"7e56907c1c3cb81876b9d8cdfaac20972cd76dd34796b7ea27b5d4ce5f517b6a" \
	"b9af6ad27919829649073cd7a6a5eb224b54b06db5a4bb550dee65c57ababb1d"

/* Ed25519 by the controller over "lethd message v1" || the hash; the
 * message on the wire is these 64 bytes followed by the body. */
#define VEC_SIGNATURE \
	"c83e01280c9e7e04b4204e2618bf31a37794168f05eef7d59400d5bd0db21228" \
	"e503575c46bd914fc876c7d4786cc9506613c5ea2a790d0e7638b95e3dd4c302"

/* The worker's pairing token for address 192.0.2.10:7470 and the
 * secret 40 41 .. 5f, and the controller's proof: BLAKE2b-256 keyed
 * with the secret over controller pk || worker pk. */
#define VEC_PAIR_ADDR		"192.0.2.10:7470"
#define VEC_PAIR_SECRET \
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
#define VEC_PAIR_TOKEN \
	"lethd1-DzE5Mi4wLjIuMTA6NzQ3MCmsuuFBvMrwsi4alNNNC8c2HlJtC_4SyJeU" \
	"vJMilm3XQEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8"
#define VEC_PAIR_PROOF \
	"d3e84cb43fd5ae8c5c742fccd8e29e39d1d02fdc5c66c022c800e3080414f67c"

#endif /* MSG_VECTORS_H */
