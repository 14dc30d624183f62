"""Reading usage figures: times, the program's own peak memory, page faults and context
switches from the status, and how long each setup step took."""
import hakoniwa

box = hakoniwa.Container().rootfs("/").devfsmount("/dev")  # perl -e reads /dev/null
# perl builds a 64 MiB string: the program's peak resident size is at least that.
perl = ["/usr/bin/perl", "-e", "my $s = 'x' x (64 << 20); print length($s), qq(\\n);"]
status = hakoniwa.run(perl, container=box).status  # stdout inherited
setup = status.enforcement.setup_ms or {}
print("exit code:", status.code)
print(f"setup: {setup.get('total', 0):.3f} ms (mounts {setup.get('mounts', 0):.3f} ms)")
print(f"real: {status.real_time:.6f} s")
print(f"cpu: user {status.user_time:.6f} s, system {status.system_time:.6f} s")
print("peak rss:", "unknown" if status.max_rss_kb is None else f"{status.max_rss_kb} KiB")
print(f"faults: {status.minor_faults} minor, {status.major_faults} major")
print(f"context switches: {status.voluntary_switches} voluntary, {status.involuntary_switches} involuntary")
