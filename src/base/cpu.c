/* cpu.c - cpuid/xgetbv feature detection and the GLIMP_KERNELS override.
 * On non-x86 builds every feature reads as absent and the level is scalar. */
#include "base/cpu.h"
#include "glimp.h"

#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void)
{
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect(cpu_features *f)
{
    unsigned int a, b, c, d;
    memset(f, 0, sizeof *f);
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    int osxsave = (c >> 27) & 1;
    int avx = (c >> 28) & 1;
    f->fma = (c >> 12) & 1;
    f->f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return;
    unsigned long long xcr0 = read_xcr0();
    int ymm_ok = (xcr0 & 0x6) == 0x6;
    int zmm_ok = (xcr0 & 0xe6) == 0xe6;
    int amx_ok = (xcr0 & 0x60000) == 0x60000;
    if (!ymm_ok) { f->fma = f->f16c = 0; return; }
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    f->avx2 = (b >> 5) & 1;
    if (zmm_ok) {
        f->avx512f = (b >> 16) & 1;
        f->avx512dq = (b >> 17) & 1;
        f->avx512bw = (b >> 30) & 1;
        f->avx512vl = (b >> 31) & 1;
        f->avx512vnni = (c >> 11) & 1;
        unsigned int a1, b1, c1, d1;
        __cpuid_count(7, 1, a1, b1, c1, d1);
        f->avx512bf16 = (a1 >> 5) & 1;
    }
    f->amx = amx_ok && ((d >> 24) & 1) && ((d >> 25) & 1);
}
#else
static void detect(cpu_features *f) { memset(f, 0, sizeof *f); }
#endif

static cpu_features g_features;
static cpu_level g_level;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static int supported(const cpu_features *f, cpu_level level)
{
    switch (level) {
    case CPU_LEVEL_SCALAR: return 1;
    case CPU_LEVEL_AVX2: return f->avx2 && f->fma && f->f16c;
    case CPU_LEVEL_AVX512:
        return supported(f, CPU_LEVEL_AVX2) && f->avx512f && f->avx512bw && f->avx512dq &&
               f->avx512vl && f->avx512vnni;
    case CPU_LEVEL_AVX512_BF16: return supported(f, CPU_LEVEL_AVX512) && f->avx512bf16;
    }
    return 0;
}

static void init_once(void)
{
    detect(&g_features);
    cpu_level lv = CPU_LEVEL_SCALAR;
    while (lv < CPU_LEVEL_TOP && supported(&g_features, (cpu_level)(lv + 1))) lv++;
    const char *env = getenv("GLIMP_KERNELS");
    if (env) {
        cpu_level want = lv;
        if (!strcmp(env, "scalar")) want = CPU_LEVEL_SCALAR;
        else if (!strcmp(env, "avx2")) want = CPU_LEVEL_AVX2;
        else if (!strcmp(env, "avx512")) want = CPU_LEVEL_AVX512;
        else if (!strcmp(env, "avx512-bf16")) want = CPU_LEVEL_AVX512_BF16;
        if (want < lv) lv = want;
    }
    g_level = lv;
}

const cpu_features *cpu_get_features(void)
{
    pthread_once(&g_once, init_once);
    return &g_features;
}

int cpu_level_supported(cpu_level level)
{
    return supported(cpu_get_features(), level);
}

cpu_level cpu_kernel_level(void)
{
    pthread_once(&g_once, init_once);
    return g_level;
}

const char *cpu_level_name(cpu_level level)
{
    switch (level) {
    case CPU_LEVEL_AVX512_BF16: return "avx512-bf16";
    case CPU_LEVEL_AVX512: return "avx512-vnni";
    case CPU_LEVEL_AVX2: return "avx2-fma";
    default: return "scalar";
    }
}

const char *glimp_kernels_name(void) { return cpu_level_name(cpu_kernel_level()); }
