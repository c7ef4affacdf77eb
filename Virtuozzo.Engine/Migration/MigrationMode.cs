namespace Virtuozzo.Engine.Migration;

/// <summary>How a VE moves: live (a running VM keeps running) or offline (stopped, copied, started again if it ran).</summary>
public enum MigrationMode { Live, Offline }
