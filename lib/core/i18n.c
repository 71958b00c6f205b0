/* i18n.c - which language a person reads, decided once per process. */
#include "core/i18n.h"

#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

bool
i18n_english(void)
{
	static int english = -1;
	static const char *const vars[] = { "YINGJI_LANG", "LC_ALL", "LC_MESSAGES", "LANG" };

	if (english >= 0)
		return english;
	english = 0;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v == NULL || v[0] == '\0')
			continue;
		english = strncmp(v, "en", 2) == 0;
		break;
	}
	return english;
}
