/* test_base.c - error records, status names and CPU level selection. */
/* test-links: base */
#include "base/cpu.h"
#include "base/error.h"
#include "test_util.h"

int main(void)
{
    glimp_error e = {0};
    CHECK(glimp_error_set(&e, GLIMP_ERR_FORMAT, "bad %s at %d", "key", 7) == GLIMP_ERR_FORMAT, "ret");
    CHECK(e.status == GLIMP_ERR_FORMAT && !strcmp(e.msg, "bad key at 7"), "msg '%s'", e.msg);
    glimp_error_prefix(&e, "file %s", "x.gguf");
    CHECK(!strcmp(e.msg, "file x.gguf: bad key at 7"), "prefixed '%s'", e.msg);
    CHECK(glimp_error_set(NULL, GLIMP_ERR_IO, "ignored") == GLIMP_ERR_IO, "NULL err");
    CHECK(!strcmp(glimp_status_str(GLIMP_ERR_NOMEM), "out of memory"), "status str");
    cpu_level lv = cpu_kernel_level();
    const cpu_features *f = cpu_get_features();
    CHECK(lv != CPU_LEVEL_AVX512 || (f->avx512f && f->avx512vnni), "avx512 level needs features");
    CHECK(lv == CPU_LEVEL_SCALAR || (f->avx2 && f->fma), "avx2 level needs features");
    CHECK(!strcmp(glimp_kernels_name(), cpu_level_name(lv)), "kernels name");
    return test_finish();
}
