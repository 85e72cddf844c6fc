/* SPDX-License-Identifier: MIT */
/*
 * rumorctl's formatting (tools/ctl/format.c, show.c): strings that a
 * peer gossiped or a node sent reach the operator's terminal escaped,
 * while plain text and UTF-8 print as they are.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tools/ctl/ctl.h"

/* An OSC title change with BEL, then "clear screen": what a hostile
 * member could put in the host it announces. */
#define HOSTILE_HOST "evil\x1b]0;pwned\x07\x1b[2J"
#define HOSTILE_HOST_SHOWN "evil\\x1b]0;pwned\\x07\\x1b[2J"

/* Output captured in memory. */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void capture_start(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static void capture_end(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	c->f = NULL;
}

/* No byte a terminal acts on: C0 controls but the line ends, DEL, and
 * (as UTF-8 or raw) C1 controls. */
static void assert_terminal_safe(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n')
			continue;
		if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch <= 0x9f) ||
		    (ch == 0xc2 && i + 1 < n &&
		     (unsigned char)s[i + 1] <= 0x9f))
			fail_msg("byte 0x%02x at offset %zu", ch, i);
	}
}

/* A PEER reply for a peer gossiped as address, through the encoder and
 * the strict decoder, as rumorctl receives it. */
static void peer_reply(const char *address, const char *learned,
		       const char *state, struct ctl_reply *r)
{
	struct ctl_peer_info in;
	struct wire_buf b;
	struct err err;

	memset(&in, 0, sizeof(in));
	memset(in.id, 0x5a, sizeof(in.id));
	snprintf(in.address, sizeof(in.address), "%s", address);
	in.learned = learned;
	in.state = state;
	in.connected = 1;
	in.last_contact_ago_ms = 1500;
	in.last_sync_ago_ms = UINT64_MAX;
	in.lag = 3;
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_peer(&b, &in), 0);
	err_clear(&err);
	assert_int_equal(ctl_decode_reply(b.data + CTL_FRAME_HEADER,
					  b.len - CTL_FRAME_HEADER, r, &err),
			 0);
	assert_int_equal(r->type, CTL_R_PEER);
	wire_buf_free(&b);
}

static void test_peers_table_escapes_a_gossiped_host(void **state)
{
	struct ctl_reply r;
	struct show_peer_row row;
	struct capture c;

	(void)state;
	peer_reply(HOSTILE_HOST ":7000", "gossip\r", "alive\x1b[31m", &r);
	show_peer_row(&row, &r.peer);
	capture_start(&c);
	show_peer_table(c.f, &row, 1);
	capture_end(&c);

	assert_terminal_safe(c.text, c.len);
	assert_non_null(strstr(c.text, HOSTILE_HOST_SHOWN ":7000"));
	assert_non_null(strstr(c.text, "gossip\\x0d"));
	assert_non_null(strstr(c.text, "alive\\x1b[31m, connected"));
	assert_non_null(strstr(c.text, "1.5s ago"));
	assert_non_null(strstr(c.text, "never"));
	/* Header and one row. */
	assert_non_null(strstr(c.text, "ADDRESS"));
	assert_ptr_equal(strchr(strchr(c.text, '\n') + 1, '\n'),
			 c.text + c.len - 1);
	free(c.text);
	ctl_reply_free(&r);
}

static void test_peers_json_escapes_a_gossiped_host(void **state)
{
	struct ctl_reply r;
	struct capture c;

	(void)state;
	peer_reply(HOSTILE_HOST "\xc2\x9b" "6n\xff:1", "seed", "gone", &r);
	capture_start(&c);
	show_peer_json(c.f, &r.peer);
	capture_end(&c);

	assert_terminal_safe(c.text, c.len);
	assert_non_null(strstr(c.text, "\"address\":\"evil\\u001b]0;pwned"
				"\\u0007\\u001b[2J\\u009b6n\\u00ff:1\""));
	assert_non_null(strstr(c.text, "\"last_sync_ms_ago\":null"));
	free(c.text);
	ctl_reply_free(&r);
}

static void test_plain_hosts_and_utf8_print_as_they_are(void **state)
{
	struct ctl_reply r;
	struct show_peer_row row;

	(void)state;
	peer_reply("10.0.0.7:7000", "multicast", "alive", &r);
	show_peer_row(&row, &r.peer);
	assert_string_equal(row.address, "10.0.0.7:7000");
	assert_string_equal(row.learned, "multicast");
	assert_string_equal(row.state, "alive, connected");
	ctl_reply_free(&r);

	peer_reply("h\xc3\xa9te-\xe6\x97\xa5:1", "seed", "alive", &r);
	show_peer_row(&row, &r.peer);
	assert_string_equal(row.address, "h\xc3\xa9te-\xe6\x97\xa5:1");
	ctl_reply_free(&r);
}

static void test_safe_escapes_controls_c1_bad_utf8_and_backslash(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{"plain text", "plain text"},
		{"tab\tnl\ncr\r", "tab\\x09nl\\x0acr\\x0d"},
		{"del\x7f", "del\\x7f"},
		{"csi\xc2\x9b", "csi\\xc2\\x9b"},           /* U+009B */
		{"nbsp\xc2\xa0", "nbsp\xc2\xa0"},           /* U+00A0 */
		{"raw c1 \x9b", "raw c1 \\x9b"},
		{"overlong \xc0\xaf", "overlong \\xc0\\xaf"},
		{"surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80"},
		{"cut \xe6\x97", "cut \\xe6\\x97"},
		{"back\\slash", "back\\\\slash"},
	};
	char out[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = fmt_safe(out, sizeof(out), cases[i].in,
				    strlen(cases[i].in));

		assert_string_equal(out, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
	}
}

static void test_safe_cuts_only_between_escapes(void **state)
{
	char out[8];

	(void)state;
	/* "ab\x1b" needs 6 + 1 bytes; the escape after it does not fit. */
	assert_int_equal(fmt_safe(out, sizeof(out), "ab\x1b\x1b", 4), 6);
	assert_string_equal(out, "ab\\x1b");
	assert_int_equal(fmt_safe(out, 1, "abc", 3), 0);
	assert_string_equal(out, "");
	/* A UTF-8 character is never split either. */
	assert_int_equal(fmt_safe(out, 4, "a\xe6\x97\xa5", 4), 1);
	assert_string_equal(out, "a");
}

static void test_status_text_escapes_node_strings(void **state)
{
	struct ctl_reply r;
	struct capture c;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.type = CTL_R_STATUS;
	snprintf(r.status.id, sizeof(r.status.id), "id\x1b[1m");
	snprintf(r.status.listen, sizeof(r.status.listen), HOSTILE_HOST
		 ":7000");
	snprintf(r.status.data_dir, sizeof(r.status.data_dir), "/d\x07");
	snprintf(r.status.resolver, sizeof(r.status.resolver), "r\x9b");
	capture_start(&c);
	show_status(c.f, 0, &r);
	capture_end(&c);

	assert_terminal_safe(c.text, c.len);
	assert_non_null(strstr(c.text, "id:          id\\x1b[1m\n"));
	assert_non_null(strstr(c.text, "listen:      " HOSTILE_HOST_SHOWN
				":7000\n"));
	assert_non_null(strstr(c.text, "data:        /d\\x07\n"));
	assert_non_null(strstr(c.text, "resolver:    r\\x9b\n"));
	free(c.text);

	/* Empty strings keep their words. */
	r.status.listen[0] = r.status.resolver[0] = '\0';
	capture_start(&c);
	show_status(c.f, 0, &r);
	capture_end(&c);
	assert_non_null(strstr(c.text, "listen:      (not listening)\n"));
	assert_non_null(strstr(c.text, "resolver:    default\n"));
	free(c.text);
}

/* A node's ERROR message goes to stderr through fmt_fail. */
static void test_error_messages_are_escaped(void **state)
{
	FILE *tmp = tmpfile();
	char buf[256];
	size_t n;
	int saved;

	(void)state;
	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	assert_int_equal(fmt_fail(CTL_EXIT_FAIL, "%s",
				  "refused \x1b]52;c;cm0gLXJm\x07"),
			 CTL_EXIT_FAIL);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);

	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	assert_string_equal(buf, "rumorctl: refused \\x1b]52;c;cm0gLXJm\\x07\n");
}

static void test_text_test_refuses_controls_and_bad_utf8(void **state)
{
	(void)state;
	assert_true(fmt_is_text("k1", 2));
	assert_true(fmt_is_text("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 9));
	assert_true(fmt_is_text("", 0));
	assert_false(fmt_is_text("a\x1b", 2));
	assert_false(fmt_is_text("a\x7f", 2));
	assert_false(fmt_is_text("\xc2\x85", 2));
	assert_false(fmt_is_text("\xff", 1));
	assert_false(fmt_is_text("\xf4\x90\x80\x80", 4));   /* > U+10FFFF */
	assert_false(fmt_is_text("\xe0\x80\xaf", 3));       /* overlong */
}

static void test_json_strings_stay_valid_and_safe(void **state)
{
	struct capture c;

	(void)state;
	capture_start(&c);
	fmt_json_string(c.f, "q\"b\\\x01\xc3\xa9\xc2\x9b\xfe", 10);
	capture_end(&c);
	assert_string_equal(c.text,
			    "\"q\\\"b\\\\\\u0001\xc3\xa9\\u009b\\u00fe\"");
	free(c.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peers_table_escapes_a_gossiped_host),
		cmocka_unit_test(test_peers_json_escapes_a_gossiped_host),
		cmocka_unit_test(test_plain_hosts_and_utf8_print_as_they_are),
		cmocka_unit_test(
			test_safe_escapes_controls_c1_bad_utf8_and_backslash),
		cmocka_unit_test(test_safe_cuts_only_between_escapes),
		cmocka_unit_test(test_status_text_escapes_node_strings),
		cmocka_unit_test(test_error_messages_are_escaped),
		cmocka_unit_test(test_text_test_refuses_controls_and_bad_utf8),
		cmocka_unit_test(test_json_strings_stay_valid_and_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
