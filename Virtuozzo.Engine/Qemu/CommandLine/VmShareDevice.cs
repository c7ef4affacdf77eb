using Virtuozzo.Engine.SharedFolders;

namespace Virtuozzo.Engine.Qemu.CommandLine;

/// <summary>
/// One shared folder as QEMU gets it: <see cref="SharedFolderTransport.VirtioFs"/> (a vhost-user-fs device talking to a
/// virtiofsd on <see cref="SocketPath"/>) or <see cref="SharedFolderTransport.NineP"/> (QEMU serves
/// <see cref="HostPath"/> itself). <see cref="Tag"/> is what the guest mounts.
/// </summary>
public sealed record VmShareDevice(string Tag, SharedFolderTransport Transport, string HostPath, bool ReadOnly, string SocketPath);
