"""What ``md5steg info`` and the benchmarks say about the CPU, from /proc/cpuinfo's text."""

from __future__ import annotations

from md5steg.sysinfo import parse_cpuinfo

# The first lines of /proc/cpuinfo on an AWS Graviton2 (c6g) and on this project's x86 VM.
GRAVITON2 = """\
processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x3
CPU part\t: 0xd0c
CPU revision\t: 1

processor\t: 1
CPU part\t: 0xd40
"""
XEON = """\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu vme sse sse2 ssse3 sse4_1 avx avx2 bmi2 avx512f avx512bw avx512vl
"""


def test_arm64_cpuinfo_names_the_core_from_its_part_number_and_keeps_asimd() -> None:
    assert parse_cpuinfo(GRAVITON2) == ("Arm Neoverse N1", ["asimd"])


def test_an_unlisted_arm_core_is_named_by_its_numbers() -> None:
    text = GRAVITON2.replace("0x41", "0x61").replace("0xd0c", "0x022")
    assert parse_cpuinfo(text)[0] == "Arm CPU (implementer 0x61, part 0x022)"


def test_x86_cpuinfo_gives_the_model_name_and_the_vector_flags() -> None:
    model, flags = parse_cpuinfo(XEON)
    assert model == "Intel(R) Xeon(R) Processor"
    assert flags == ["sse2", "ssse3", "sse4_1", "avx", "avx2", "bmi2", "avx512f", "avx512bw", "avx512vl"]


def test_cpuinfo_without_a_model_names_none() -> None:
    assert parse_cpuinfo("processor\t: 0\nflags\t: sse2\n") == (None, ["sse2"])
