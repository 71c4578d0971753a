/*
 * Test vectors of the wire protocol v1: one fixed handshake and a few
 * records (doc/protocol.md, Test vectors, prints the same numbers and
 * regress/wire_test.c checks both: that the code computes these, and
 * that the document shows these).  The inputs are the seeds, the
 * ephemeral secrets and the random; everything else is an output.
 * Identities: initiator "controller-1" role 1, responder "rig-07"
 * role 2.  Records carry "hello, responder", "hello, initiator" and
 * "after rekey".
 */

#ifndef WIRE_VECTORS_H
#define WIRE_VECTORS_H

struct wire_vector {
	const char	*name;
	const char	*hex;
};

static const struct wire_vector wire_vectors[] = {
	{ "seed_i",
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" },
	{ "pk_i",
	"4fd099ccd47d7893dfe9ec24414ecb0d9b5420232aad30d91c465be33cbe65c4" },
	{ "seed_r",
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" },
	{ "pk_r",
	"dde3bccec7f3a66a1115f45d720f4dc135c3ae7c4e22dca38fdb1efd6a495ff8" },
	{ "e_sk_i",
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" },
	{ "e_pk_i",
	"358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254" },
	{ "e_sk_r",
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" },
	{ "e_pk_r",
	"79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a" },
	{ "random",
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f" },
	{ "hs1",
	"0101358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd16"
	"6254606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d"
	"7e7f" },
	{ "dh",
	"04c304fb1ca83cee75e206344231f33797e07d9929db670994b7c6fbeb1dc255" },
	{ "h2",
	"b6ececa3702d7fb136f663a2b3e4f7edc10b9ed5301be615d34ff6a654883965"
	"b1eb50f1b1777e8b6a83665eec3e58216824768bd020723fecd12a6bbd88e479" },
	{ "k2",
	"aea7814e842e3099e0876a325287b64b3d954139510382ac66dfe42f18f37282" },
	{ "th_r",
	"8fd91ca3c5f60e9eeeb6bf3b08764fb7de03a4d6d4d39a9dfc0cec49dd0e7032"
	"0f23980e5bf21ca45cd82a11196b61c2568d5defa4d1588fc7b3a125bd64f702" },
	{ "sig_r",
	"943dcef5b04edb699b2a4c2d3bfbbc046e76617ad6426d1df8b0ed4360371a7f"
	"fd6272f15bd811bbdbd478324db467065bfb89204971cf322bdb85152d85ab09" },
	{ "hs2",
	"0279a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a5"
	"1a7508d41b6504c33df25c5e200212a6503bb7357764f0a4adad664f43ca7705"
	"bb1e524a0d809005f3a037d3fd5f3dca2e8ad80ba79151ff9492df2bf8355a17"
	"d3d5514020641a3e40141943333223453f9f2a2575e65bce589066aaac331eb4"
	"3e5595e6de39e0713e0f6c3b5891e685418d09a92e50c3b603" },
	{ "h3",
	"dded8328799132ca955a65d7a236eba897f05ab32d424a8dcd2c1266b2bbf074"
	"55f1bc10fe09c66419825885378c039ecf0f59b584f6cd7df0816505e83f96ed" },
	{ "k3",
	"52319a324c372b60005df2d4c8fd7d9a586f0e3f543083ab3f129c39124eccce" },
	{ "th_i",
	"6e7428bc7e7ed5122f4995b9bc3c648e6b028281f879c1a92ba099f1fa9c3e5f"
	"dd25e70afcfe8aedfddaaf2f5d4d25c49a76f6a5db347db925db5f5cadd2ea94" },
	{ "sig_i",
	"42d772c2d131164aad1fd97a55f2ab3047091cab8ea7ea4630325e365ad62db2"
	"639767dc11e5b8e88bec4cba05b7ef8d6f022f8ec33fee4a800fbe59bd21ed0d" },
	{ "hs3",
	"036123093de1b0dc7e8c52673ce72b3b073aba22574177402fed20f20a562b66"
	"2089d10e33471dce3b0808a11a0900cf6bd7613d3e4e72adc23690b598e88c09"
	"21c74033d7d888f3ed18990528e78f5e4816b6732ec4f75f69bfa74370eba1b9"
	"7ecf145c97ce7f513962cdd97887bd3de6c0edebae8e3ff7cd3919ae5618b2" },
	{ "th_final",
	"3729f02d38e81590aca2b4f70326b9e003aaa55dadf3949677798986be41822a"
	"aefe6fd61fb0f2717f1a7b476c89bdad1d2430f5d552ebf4db34175ca0d009f0" },
	{ "k_i2r",
	"7a1f7f84aadee7f5939fa7831157f9306db75e689cbf74a2000a172dcd36ba95" },
	{ "k_r2i",
	"1380824a119a9c7eab26e6c9a4ff36acfc58bcbd2695e4d794232cb1e3908d42" },
	{ "rec_i2r_0",
	"100000000000000000bb5039d8763c9a5bc7ec37760eb3df59a5cc934e55e49f"
	"e9f954e3eb8da2af2ee5" },
	{ "rec_r2i_0",
	"100000000000000000e857c3d072b5235964979a7c1bc3b4d84d5aa7b69e02b7"
	"7bdcf60b56500b354b69" },
	{ "rec_i2r_rekey",
	"100000000000000001a576a731cafc85139befbfd8e21cd1cbf3" },
	{ "k_i2r_next",
	"bc5bb1d2c784c356ab87a46ca941cd3ea88c8e64ac68a3ab9227124c7b96d529" },
	{ "rec_i2r_next_0",
	"100000000000000000b91188f842359ef23f3a1fd2f4188a2f971cc72b7cb8ff"
	"0ec4b2fe64" },
};

#endif /* WIRE_VECTORS_H */
