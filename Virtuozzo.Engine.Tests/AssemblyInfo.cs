// Virtuozzo manages Linux hosts: cgroups, namespaces, /proc and QEMU. Windows is not a target.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
