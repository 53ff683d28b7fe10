import sys, time
from zeroconf import Zeroconf, ServiceInfo, IPVersion, DNSOutgoing, DNSQuestion
from zeroconf import const
zc = Zeroconf(ip_version=IPVersion.V4Only)
info = ServiceInfo("_eota._tcp.local.", "kitchen._eota._tcp.local.")
ok = info.request(zc, 3000)
print("svc", ok, info.parsed_addresses(), info.port, info.server, info.properties)
out = DNSOutgoing(const._FLAGS_QR_QUERY)
out.add_question(DNSQuestion("kitchen.local.", const._TYPE_A, const._CLASS_IN))
out.add_question(DNSQuestion("kitchen.local.", const._TYPE_AAAA, const._CLASS_IN))
zc.send(out)
time.sleep(1)
for e in zc.cache.entries_with_name("kitchen.local."):
    print("cache", e)
zc.close()
