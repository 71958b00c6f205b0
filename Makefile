# Yingji — the entry points a person types. CMake does the building.
#   make        release binaries into build/bin/
#   make run    the agent guarding a demo site (installs what it needs first)
#   make check  -Wall -Wextra -Werror, ASan+UBSan, every test (installs what it needs first)
#   make bench  benchmarks, our figure beside the peer's from the same run
#   make fuzz   libFuzzer targets (clang), a short run of each

JOBS ?= $(shell nproc)
BUILD_TYPE ?= Release

.PHONY: all run check bench fuzz deps clean format

all:
	@test -f build/CMakeCache.txt || cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DYINGJI_TESTS=OFF
	@cmake --build build -j $(JOBS)

run:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

check:
	@scripts/deps.sh check
	@$(MAKE) --no-print-directory all
	@test -f build/check/CMakeCache.txt || cmake -S . -B build/check -DCMAKE_BUILD_TYPE=Debug -DYINGJI_SANITIZE=ON
	@cmake --build build/check -j $(JOBS)
	@cd build/check && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	@bench/run.sh

fuzz:
	@scripts/deps.sh fuzz
	@test -f build/fuzz/CMakeCache.txt || CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DYINGJI_FUZZ=ON
	@cmake --build build/fuzz -j $(JOBS)
	@scripts/fuzz.sh build/fuzz/bin $${FUZZ_SECONDS:-30}

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
