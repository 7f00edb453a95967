# The front door. `make` builds, `make check` builds and runs the tests.
#   make            install missing Debian packages, configure, build (build/)
#   make check      build + all tests (ctest), then which were skipped and why
#   make asan       ASan+UBSan build (build-asan/) + all tests
#   make tsan       TSan build (build-tsan/) + all tests
#   make demo       build, then GlimpRouter on the demo pair (scripts/demo.sh)
#   make demo-quick the same on 20 benchmark problems (CI runs it)
#   make fuzz       libFuzzer build of the GGUF reader, a short run on the seed corpus
#   make install    build, then install under PREFIX (default /usr/local; DESTDIR
#                   stages): bin/glimp, include/glimp.h, libglimp.a and .so,
#                   pkg-config's glimp.pc, man pages
#   make uninstall  remove those files from PREFIX (and DESTDIR) again
#   make clean      remove the build folders
# WERROR=1 adds -Werror; JOBS=N sets build parallelism.
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
WERROR ?= 0
CMAKE_FLAGS = -DGLIMP_WERROR=$(if $(filter 1,$(WERROR)),ON,OFF)
CTEST = ctest --output-on-failure -j $(JOBS)

.PHONY: all deps build check install uninstall demo demo-quick asan tsan fuzz clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B build $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

check: build
	@cd build && $(CTEST); rc=$$?; ../scripts/ctest_skips.sh .; exit $$rc

install: build
	DESTDIR="$(DESTDIR)" cmake --install build --prefix "$(PREFIX)"
	@# the loader's cache must learn of libglimp.so.0 (root, not staging)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then ldconfig; fi

uninstall:
	@cmake -DBUILD=build -DPREFIX="$(PREFIX)" -DDESTDIR="$(DESTDIR)" -P cmake/uninstall.cmake

demo: build
	@scripts/demo.sh

demo-quick: build
	@DEMO_LIMIT=20 DEMO_OUT=build/demo-quick scripts/demo.sh

asan: deps
	@cmake -S . -B build-asan $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug \
	    -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DGLIMP_SANITIZE=address,undefined >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 $(CTEST)

tsan: deps
	@cmake -S . -B build-tsan $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug \
	    -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DGLIMP_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	cd build-tsan && $(CTEST)

fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DGLIMP_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_gguf
	build-fuzz/tests/fuzz/fuzz_gguf -max_total_time=$${FUZZ_SECONDS:-30} -max_len=65536 \
	    build-fuzz/fuzz-corpus tests/fuzz/corpus

clean:
	rm -rf build build-asan build-tsan build-fuzz
