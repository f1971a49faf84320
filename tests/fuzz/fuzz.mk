# Builds the fuzz targets listed in tests/fuzz/targets (GNU make; run by
# `make fuzz` from a build directory, which passes top_srcdir, CC,
# FUZZ_CFLAGS, FUZZ_LIBS, FUZZ_LDLIBS, LWIP_SRC and BEARSSL_SRC). Objects land under
# tests/fuzz/ in the build directory; generated sources (the DNS zones,
# httpd's site) are taken from the build directory before the tree.
FUZZ_DIR = tests/fuzz
TARGETS_FILE = $(top_srcdir)/tests/fuzz/targets
CPPFLAGS = -I$(top_srcdir)/core/include -I$(top_srcdir)/storage/include \
	-I$(top_srcdir)/storage -I$(top_srcdir)/net/tls/include \
	-I$(top_srcdir)/net/tls -isystem $(BEARSSL_SRC)/inc \
	-I$(top_srcdir)/tests/unit -I$(top_srcdir)/tests/fuzz \
	-I$(top_srcdir)/apps/httpd -I$(top_srcdir)/apps/dns \
	-I$(top_srcdir)/apps/kv \
	-I$(top_srcdir)/platform-xen -I$(top_srcdir)/platform-posix \
	-I$(top_srcdir)/net/lwip -isystem $(LWIP_SRC)/src/include \
	$(LWIP_PLATFORM_CPPFLAGS) \
	-D__XEN_INTERFACE_VERSION__=0x00040e00
# libFuzzer declares LLVMFuzzerTestOneInput for us (tests/fuzz/fuzz.h).
CFLAGS = $(FUZZ_CFLAGS)
LINK_FLAGS = -fsanitize=fuzzer,address,undefined

Q = $(if $(filter 1,$(V)),,@)

all: targets

$(FUZZ_DIR)/targets.mk: $(TARGETS_FILE) $(top_srcdir)/tests/fuzz/fuzz.mk
	@mkdir -p $(FUZZ_DIR)
	$(Q)awk '!/^[[:space:]]*(#|$$)/ { \
	  printf "TARGETS += $(FUZZ_DIR)/%s_fuzz\n", $$1; \
	  printf "$(FUZZ_DIR)/%s_fuzz: $(FUZZ_DIR)/obj/tests/fuzz/%s_fuzz.o", $$1, $$1; \
	  for (i = 2; i <= NF; i++) { o = $$i; sub(/\.c$$/, ".o", o); \
	    printf " $(FUZZ_DIR)/obj/%s", o } \
	  print "" }' $< > $@.tmp && mv $@.tmp $@
include $(FUZZ_DIR)/targets.mk

targets: $(TARGETS)

$(TARGETS): $(FUZZ_LIBS)
	@echo "  FUZZLD   $@"
	$(Q)$(CC) $(CFLAGS) $(LINK_FLAGS) -o $@ $(filter %.o,$^) -Wl,--start-group $(FUZZ_LIBS) -Wl,--end-group \
	  $(FUZZ_LDLIBS)

# A source is the build directory's (generated) copy if there is one.
$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC   $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<
vpath %.c $(top_srcdir)

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)

.PHONY: all targets

# The log store's seeds come from the store itself (tests/fuzz/mkseeds.c).
$(FUZZ_DIR)/mkseeds: $(FUZZ_DIR)/obj/tests/fuzz/mkseeds.o $(FUZZ_LIBS)
	@echo "  FUZZLD   $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) -Wl,--start-group $(FUZZ_LIBS) \
	  -Wl,--end-group $(FUZZ_LDLIBS)
seeds: $(FUZZ_DIR)/mkseeds
	@mkdir -p $(top_srcdir)/tests/fuzz/corpus/log_mount
	$(FUZZ_DIR)/mkseeds $(top_srcdir)/tests/fuzz/corpus/log_mount
.PHONY: seeds
