namespace Virtuozzo.Engine.Store;

/// <summary>The two kinds of virtual environment.</summary>
public enum VeType
{
    Container,
    VirtualMachine,
}
