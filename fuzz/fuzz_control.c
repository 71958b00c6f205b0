/* fuzz_control.c - the control socket's request parser and the maintenance
 * window parser (from the config file) on any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/control.h"
#include "agent/daemon.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req;
	struct maintenance_window w;
	char *copy;

	if (size > CONTROL_MAX_REQUEST + 16)
		return 0;
	copy = malloc(size + 1);
	memcpy(copy, data, size);
	if (control_parse(copy, size, &req) == 0) {
		for (size_t i = 0; i < req.nfields; i++)
			if (strlen(req.field[i]) >= size)
				abort();
	}
	copy[size] = '\0';
	if (maintenance_parse(copy, &w) == 0 && (w.end_min <= w.start_min || w.days == 0))
		abort();
	free(copy);
	return 0;
}
