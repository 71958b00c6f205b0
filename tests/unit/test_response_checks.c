/*
 * test_response_checks.c - the checks that stand between a request and the firewall:
 * the centre's (response_check_cidr, alert_source_addr) and the agent's
 * responder (responder_check_cidr), for every bad target the issue names.
 * The real nftables runs in tests/integration/test_respond.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/responder/responder.h"
#include "server/responses.h"
#include "server/store/db.h"

static void
centre_refuses_bad_targets(void **state)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/x", "1.2.3.4/-1",
		"0.0.0.0/0", "::/0", "10.0.0.0/4", "2001::/8", "127.0.0.1", "127.0.0.0/8",
		"x; nft flush ruleset", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/24 drop",
		"999.1.1.1", "1.2.3.4/0032",
	};
	const char *why = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (response_check_cidr(bad[i], NULL, &why) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(why);
	}
	assert_int_equal(response_check_cidr(NULL, NULL, &why), -EINVAL);
}

static void
centre_accepts_and_protects(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_int_equal(response_check_cidr("203.0.113.7", NULL, &why), 0);
	assert_int_equal(response_check_cidr("203.0.113.0/24", NULL, &why), 0);
	assert_int_equal(response_check_cidr("2001:db8::1", NULL, &why), 0);
	assert_int_equal(response_check_cidr("2001:db8::/32", NULL, &why), 0);
	/* the centre's own address, exactly or inside a range: the allow list */
	assert_int_equal(response_check_cidr("10.231.1.1", "10.231.1.1", &why), -EPERM);
	assert_int_equal(response_check_cidr("10.231.0.0/16", "10.231.1.1", &why), -EPERM);
	assert_int_equal(response_check_cidr("10.231.2.0/24", "10.231.1.1", &why), 0);
	assert_int_equal(response_check_cidr("2001:db8::/32", "2001:db8::5", &why), -EPERM);
	assert_int_equal(response_check_cidr("2001:db9::/32", "2001:db8::5", &why), 0);
}

static void
agent_checks_and_canonicalises(void **state)
{
	const char *allow[] = { "10.231.1.1", "2001:db8::5" };
	char out[64];
	const char *why = NULL;

	(void)state;
	assert_int_equal(responder_check_cidr("10.231.2.77/24", allow, 2, out, sizeof(out), &why), 0);
	assert_string_equal(out, "10.231.2.0/24");		/* host bits cleared */
	assert_int_equal(responder_check_cidr("10.231.2.2", allow, 2, out, sizeof(out), &why), 0);
	assert_string_equal(out, "10.231.2.2");
	assert_int_equal(responder_check_cidr("2001:db9::1/48", allow, 2, out, sizeof(out), &why), 0);
	assert_string_equal(out, "2001:db9::/48");
	assert_int_equal(responder_check_cidr("10.231.1.1", allow, 2, out, sizeof(out), &why), -EPERM);
	assert_int_equal(responder_check_cidr("10.0.0.0/8", allow, 2, out, sizeof(out), &why), -EPERM);
	assert_int_equal(responder_check_cidr("2001:db8::/32", allow, 2, out, sizeof(out), &why),
		-EPERM);
	assert_int_equal(responder_check_cidr("127.0.0.1", allow, 2, out, sizeof(out), &why), -EPERM);
	assert_int_equal(responder_check_cidr("0.0.0.0/0", allow, 2, out, sizeof(out), &why), -EINVAL);
	assert_int_equal(responder_check_cidr("::/0", allow, 2, out, sizeof(out), &why), -EINVAL);
	assert_int_equal(responder_check_cidr("1.2.3", allow, 2, out, sizeof(out), &why), -EINVAL);
	assert_int_equal(responder_check_cidr("1.2.3.4/33", allow, 2, out, sizeof(out), &why), -EINVAL);
	assert_int_equal(responder_check_cidr("1.2.3.4; drop", allow, 2, out, sizeof(out), &why),
		-EINVAL);
	assert_int_equal(responder_check_cidr(NULL, allow, 2, out, sizeof(out), &why), -EINVAL);
	assert_non_null(why);
}

/* One address is one target: duplicates and escalation see the same key. */
static void
centre_canonical_targets(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(response_canonical_cidr("203.0.113.77/24", out, sizeof(out)), 0);
	assert_string_equal(out, "203.0.113.0/24");
	assert_int_equal(response_canonical_cidr("203.0.113.7/32", out, sizeof(out)), 0);
	assert_string_equal(out, "203.0.113.7");
	assert_int_equal(response_canonical_cidr("2001:DB8:0:0::1/128", out, sizeof(out)), 0);
	assert_string_equal(out, "2001:db8::1");
	assert_int_equal(response_canonical_cidr("10.1.2.3/9", out, sizeof(out)), 0);
	assert_string_equal(out, "10.0.0.0/9");
	assert_int_equal(response_canonical_cidr("nonsense", out, sizeof(out)), -EINVAL);
}

static void
source_address_of_an_alert(void **state)
{
	char a[64];

	(void)state;
	assert_true(alert_source_addr("src_ip=203.0.113.9", NULL, a, sizeof(a)));
	assert_string_equal(a, "203.0.113.9");
	assert_true(alert_source_addr("203.0.113.10", NULL, a, sizeof(a)));	/* a suppressed rule's group */
	assert_string_equal(a, "203.0.113.10");
	assert_true(alert_source_addr(NULL, "cs-method=GET\nc-ip=198.51.100.4\n", a, sizeof(a)));
	assert_string_equal(a, "198.51.100.4");
	assert_true(alert_source_addr("user=root,src_ip=2001:db8::7", NULL, a, sizeof(a)));
	assert_string_equal(a, "2001:db8::7");
	assert_false(alert_source_addr("root", "user=root\n", a, sizeof(a)));
	assert_false(alert_source_addr("src_ip=not-an-address", NULL, a, sizeof(a)));
	assert_false(alert_source_addr(NULL, NULL, a, sizeof(a)));
	assert_false(alert_source_addr("xsrc_ip=1.2.3.4", NULL, a, sizeof(a)));
}

static int
state_of(const struct db_row *row, void *data)
{
	snprintf(data, 16, "%s", db_row_text(row, 0));
	return 1;
}

/* A result is taken only from the agent the request was for. */
static void
results_only_from_their_agent(void **state)
{
	static const char create[] = "{\"op\":\"create\",\"action\":\"block\",\"agent\":1,"
		"\"addr\":\"203.0.113.7\",\"agent_online\":true}";
	static const char other[] = "{\"op\":\"result\",\"id\":1,\"agent\":2,\"answer\":"
		"{\"ok\":true,\"state\":\"applied\"}}";
	static const char own[] = "{\"op\":\"result\",\"id\":1,\"agent\":1,\"answer\":"
		"{\"ok\":true,\"state\":\"applied\"}}";
	struct db *s = NULL;
	struct buf resp;
	char st[16] = "";
	int status = 0;
	bool dispatch = false;

	(void)state;
	assert_int_equal(db_open(":memory:", false, &s), 0);
	buf_init(&resp, 1u << 20);
	responses_request(s, NULL, create, sizeof(create) - 1, 1, &resp, &status, &dispatch);
	assert_int_equal(status, 200);
	assert_true(dispatch);
	responses_request(s, NULL, other, sizeof(other) - 1, 2, &resp, &status, &dispatch);
	assert_int_equal(status, 403);
	assert_int_equal(db_query(s, "SELECT state FROM responses WHERE id = 1", state_of, st, ""), 0);
	assert_string_equal(st, "pending");
	responses_request(s, NULL, own, sizeof(own) - 1, 3, &resp, &status, &dispatch);
	assert_int_equal(status, 200);
	assert_int_equal(db_query(s, "SELECT state FROM responses WHERE id = 1", state_of, st, ""), 0);
	assert_string_equal(st, "applied");
	buf_release(&resp);
	db_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(centre_refuses_bad_targets),
		cmocka_unit_test(centre_accepts_and_protects),
		cmocka_unit_test(agent_checks_and_canonicalises),
		cmocka_unit_test(source_address_of_an_alert),
		cmocka_unit_test(centre_canonical_targets),
		cmocka_unit_test(results_only_from_their_agent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
