namespace Virtuozzo.Engine.Store;

/// <summary>What the VM boots with: SeaBIOS or UEFI (OVMF, with a per-VM copy of the variable store).</summary>
public enum VmFirmware
{
    Bios,
    Efi,
}
