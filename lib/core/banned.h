/*
 * banned.h - functions that invite overflows or hidden state; using one fails
 * the build. Use snprintf, buf_appendf, strtok_r, memcpy with a checked length.
 */
#ifndef YINGJI_BANNED_H
#define YINGJI_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_yingji

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)

#endif
