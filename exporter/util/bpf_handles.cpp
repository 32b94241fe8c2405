#include "util/bpf_handles.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

namespace cgio {

void BpfObjectCloser::operator()(bpf_object* obj) const { bpf_object__close(obj); }
void BpfLinkDestroyer::operator()(bpf_link* link) const { bpf_link__destroy(link); }
void BtfFreer::operator()(btf* b) const { btf__free(b); }
void RingBufferFreer::operator()(ring_buffer* rb) const { ring_buffer__free(rb); }

}  // namespace cgio
