/* file.h - reading a small whole file (configuration, password and ACL files) into memory. */
#ifndef MQTT_FAST_FILE_H
#define MQTT_FAST_FILE_H

#include <stddef.h>

/* Reads the whole file at path (at most max bytes; a directory is -EISDIR) into an owned
 * NUL-terminated buffer *out of *len bytes (the file may itself hold NUL bytes: callers that
 * want text check). 0, or a negative errno (-EFBIG when larger than max) with *out and *len
 * unchanged. Borrows path; the caller frees *out. */
int read_small_file(const char *path, size_t max, char **out, size_t *len);

#endif
