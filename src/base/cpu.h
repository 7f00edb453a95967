/* cpu.h - CPU feature detection and the kernel level chosen at start-up.
 *
 * The level is read once from cpuid/xgetbv (OS support for the register
 * state included) and may be lowered, never raised, with the environment
 * variable GLIMP_KERNELS=scalar|avx2|avx512|avx512-bf16. Kernel tables
 * (src/quant) pick their functions from cpu_kernel_level(); a level without
 * a kernel of its own for some type uses the next lower level's.
 */
#ifndef GLIMP_BASE_CPU_H
#define GLIMP_BASE_CPU_H

typedef enum cpu_level {
    CPU_LEVEL_SCALAR = 0,
    CPU_LEVEL_AVX2 = 1,   /* AVX2 + FMA + F16C */
    CPU_LEVEL_AVX512 = 2, /* AVX-512 F/BW/DQ/VL + VNNI */
    CPU_LEVEL_AVX512_BF16 = 3, /* the above + AVX512_BF16 (vdpbf16ps) */
} cpu_level;
#define CPU_LEVEL_TOP CPU_LEVEL_AVX512_BF16

typedef struct cpu_features {
    int avx2, fma, f16c, avx512f, avx512bw, avx512dq, avx512vl, avx512vnni, avx512bf16, amx;
} cpu_features;

/* Features of this CPU (detected once, thread-safe after the first call). */
const cpu_features *cpu_get_features(void);

/* The kernel level in effect (detected level, lowered by GLIMP_KERNELS). */
cpu_level cpu_kernel_level(void);

/* Whether this CPU (and OS) can run kernels of `level`. */
int cpu_level_supported(cpu_level level);

/* "scalar", "avx2-fma", "avx512-vnni", "avx512-bf16". */
const char *cpu_level_name(cpu_level level);

#endif
