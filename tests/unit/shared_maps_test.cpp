// Every embedded BPF object against the shared map table (maps/shared_maps.h):
// a `cgio_*` map an object declares is either shared, with the table's type,
// key and value size (the exporter's map replaces it at load, and a
// mismatch would only fail there), or private to the object.
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "loading/programs.h"
#include "maps/counter_domains.h"
#include "maps/shared_maps.h"
#include "util/bpf_handles.h"

namespace cgio {
namespace {

// Maps an object may keep to itself.
const std::set<std::string> kPrivate = {"cgio_kprobe_args", "cgio_cg_scratch"};

std::set<const BpfObjectSpec*> embedded_objects() {
  std::set<const BpfObjectSpec*> objects;
  for (const Implementation& impl : catalogue()) objects.insert(impl.object);
  return objects;
}

TEST(SharedMaps, EveryObjectMapIsSharedWithTheTablesShapeOrPrivate) {
  std::set<std::string> used;
  const auto objects = embedded_objects();
  ASSERT_FALSE(objects.empty());
  for (const BpfObjectSpec* spec : objects) {
    size_t size = 0;
    const void* bytes = spec->elf_bytes(&size);
    const std::string name(spec->name);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name.c_str());
    BpfObjectPtr obj(bpf_object__open_mem(bytes, size, &opts));
    ASSERT_TRUE(obj) << "open " << name;
    const bpf_map* map = nullptr;
    bpf_object__for_each_map(map, obj.get()) {
      const std::string map_name = bpf_map__name(map);
      if (!map_name.starts_with("cgio_") || bpf_map__is_internal(map)) continue;  // .rodata and friends
      const SharedMapSpec* shared = find_shared_map(map_name);
      if (shared == nullptr) {
        EXPECT_TRUE(kPrivate.contains(map_name)) << name << ": map " << map_name << " is neither shared nor private";
        continue;
      }
      used.insert(map_name);
      EXPECT_EQ(bpf_map__type(map), static_cast<bpf_map_type>(shared->type)) << name << ": " << map_name;
      EXPECT_EQ(bpf_map__key_size(map), shared->key_size) << name << ": " << map_name;
      EXPECT_EQ(bpf_map__value_size(map), shared->value_size) << name << ": " << map_name;
    }
  }
  for (const SharedMapSpec& m : shared_maps()) {
    EXPECT_TRUE(used.contains(std::string(m.bpf_name))) << m.bpf_name << " is in the table but in no object";
  }
}

TEST(SharedMaps, EveryCounterDomainHasASharedPerCpuHash) {
  for (const CounterDomainSpec& d : counter_domains()) {
    const SharedMapSpec& m = shared_map(d.map);
    EXPECT_EQ(m.type, static_cast<uint32_t>(BPF_MAP_TYPE_PERCPU_HASH)) << d.name;
    EXPECT_EQ(m.value_size, d.fields * sizeof(uint64_t)) << d.name;
    EXPECT_EQ(m.key_size, d.two_part_key() ? 16u : 8u) << d.name;
    ASSERT_TRUE(m.needs.has_value()) << d.name;
    EXPECT_EQ(*m.needs, d.id) << d.name;
  }
}

}  // namespace
}  // namespace cgio
