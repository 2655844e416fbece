/* config_checks.h - CHECK_STREQ for test_broker_config.c and test_broker_config_files.c. */
#ifndef MQTT_FAST_CONFIG_CHECKS_H
#define MQTT_FAST_CONFIG_CHECKS_H

#include <stdio.h>
#include <string.h>

#include "check.h"

#define CHECK_STREQ(a, b)                                                                          \
	do {                                                                                       \
		const char *sa_ = (a), *sb_ = (b);                                                 \
		if (sa_ && sb_ && strcmp(sa_, sb_) == 0) {                                         \
			check_state_.passed++;                                                     \
		} else {                                                                           \
			check_state_.failed++;                                                     \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__,           \
			        sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                       \
		}                                                                                  \
	} while (0)

#endif
