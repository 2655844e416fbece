/* test_broker_fastpath_config.c - the fast path's directives: defaults, values, and
 * "file:line: reason" for every bad line. */
#include <string.h>

#include "config.h"
#include "config_checks.h"

static void test_defaults(void)
{
	struct config c;
	char err[256];
	CHECK_EQ(config_load_string("x.conf", "", &c, err, sizeof(err)), 0);
	CHECK_EQ(c.fastpath_interface_count, 0);
	CHECK_EQ(c.fastpath_filter_count, 0);
	CHECK_EQ(c.fastpath_mode, FASTPATH_MODE_AUTO);
	CHECK_STREQ(c.control_socket, "/run/mqtt-fast.sock");
	config_free(&c);
}

static void test_values(void)
{
	struct config c;
	char err[256];
	const char *text = "fastpath_interface veth0\n"
	                   "fastpath_interface lo\n"
	                   "fastpath_mode generic\n"
	                   "fastpath sensors/#\n"
	                   "fastpath +/temp\n"
	                   "control_socket /tmp/x.sock\n";
	CHECK_EQ(config_load_string("x.conf", text, &c, err, sizeof(err)), 0);
	CHECK_EQ(c.fastpath_interface_count, 2);
	CHECK_STREQ(c.fastpath_interfaces[0], "veth0");
	CHECK_STREQ(c.fastpath_interfaces[1], "lo");
	CHECK_EQ(c.fastpath_mode, FASTPATH_MODE_GENERIC);
	CHECK_EQ(c.fastpath_filter_count, 2);
	CHECK_STREQ(c.fastpath_filters[0], "sensors/#");
	CHECK_STREQ(c.fastpath_filters[1], "+/temp");
	CHECK_STREQ(c.control_socket, "/tmp/x.sock");
	config_free(&c);
}

static void test_errors(void)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
	        {"fastpath_interface\n",
	         "e.conf:1: fastpath_interface: expected an interface name"},
	        {"fastpath_interface a b\n",
	         "e.conf:1: fastpath_interface: one interface per line"},
	        {"fastpath_interface abcdefghijklmnopq\n",
	         "e.conf:1: fastpath_interface: 'abcdefghijklmnopq' is longer than an interface "
	         "name can be"},
	        {"fastpath_interface lo\nfastpath_interface lo\n",
	         "e.conf:2: fastpath_interface: lo is already listed"},
	        {"fastpath\n", "e.conf:1: fastpath: expected a topic filter"},
	        {"fastpath a/#/b\n", "e.conf:1: fastpath: 'a/#/b' is not a valid topic filter"},
	        {"fastpath $share/g/a\n",
	         "e.conf:1: fastpath: '$share/g/a' is not a valid topic filter"},
	        {"fastpath a b\n", "e.conf:1: fastpath: one topic filter per line"},
	        {"\nfastpath a\nfastpath a\n", "e.conf:3: fastpath: 'a' is already listed"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		char err[256] = "";
		CHECK(config_load_string("e.conf", cases[i].text, &c, err, sizeof(err)) < 0);
		CHECK_STREQ(err, cases[i].err);
	}
	/* The enum's own error names the allowed words. */
	struct config c;
	char err[256] = "";
	CHECK(config_load_string("e.conf", "fastpath_mode fast\n", &c, err, sizeof(err)) < 0);
	CHECK(strncmp(err, "e.conf:1: ", 10) == 0);
	CHECK(strstr(err, "fastpath_mode") != NULL);
}

int main(void)
{
	test_defaults();
	test_values();
	test_errors();
	return check_report();
}
