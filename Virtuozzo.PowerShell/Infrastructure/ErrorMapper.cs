using System.Management.Automation;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// The one place engine exceptions become ErrorRecords: a stable id, a specific category, the target object and
/// a recommended action. A new failure mode is a new exception type here, never a catch in a cmdlet.
/// </summary>
internal static class ErrorMapper
{
    public static ErrorRecord ToErrorRecord(Exception exception, object? fallbackTarget)
    {
        if (exception is AggregateException { InnerExceptions.Count: 1 } agg) exception = agg.InnerException!;
        var (id, category) = exception switch
        {
            VzNotFoundException e => (e.ErrorId, ErrorCategory.ObjectNotFound),
            VzAlreadyExistsException e => (e.ErrorId, ErrorCategory.ResourceExists),
            VzInvalidStateException e => (e.ErrorId, ErrorCategory.InvalidOperation),
            VzInvalidArgumentException e => (e.ErrorId, ErrorCategory.InvalidArgument),
            Virtuozzo.Engine.Disks.Safety.VzDiskPathRefusedException e => (e.ErrorId, ErrorCategory.InvalidArgument),
            VzCapabilityMissingException e => (e.ErrorId, ErrorCategory.NotInstalled),
            VzNotSupportedException e => (e.ErrorId, ErrorCategory.NotImplemented),
            VzTimeoutException e => (e.ErrorId, ErrorCategory.OperationTimeout),
            VzConfigCorruptException e => (e.ErrorId, ErrorCategory.InvalidData),
            VzExternalToolException e => (e.ErrorId, ErrorCategory.InvalidResult),
            VzInsufficientResourcesException e => (e.ErrorId, ErrorCategory.ResourceUnavailable),
            VzUnavailableException e => (e.ErrorId, ErrorCategory.ResourceUnavailable),
            Virtuozzo.Engine.Qcow2.VzDiskCorruptException e => (e.ErrorId, ErrorCategory.InvalidData),
            Virtuozzo.Engine.Backups.VzBackupCorruptException e => (e.ErrorId, ErrorCategory.InvalidData),
            Virtuozzo.Engine.Qcow2.VzDiskUnsupportedException e => (e.ErrorId, ErrorCategory.NotImplemented),
            Virtuozzo.Engine.Disks.VzDiskFormatUnsupportedException e => (e.ErrorId, ErrorCategory.NotImplemented),
            VzException e => (e.ErrorId, ErrorCategory.NotSpecified),
            OperationCanceledException => ("VzOperationCancelled", ErrorCategory.OperationStopped),
            UnauthorizedAccessException => ("VzPermissionDenied", ErrorCategory.PermissionDenied),
            IOException => ("VzIOError", ErrorCategory.WriteError),
            _ => ("VzUnexpectedError", ErrorCategory.NotSpecified),
        };
        var target = exception is VzException { Target: not null } vz ? vz.Target : fallbackTarget;
        var record = new ErrorRecord(exception, id, category, target);
        var action = exception switch
        {
            VzException v => v.RecommendedAction,
            UnauthorizedAccessException => "Virtuozzo manages cgroups, namespaces and devices: run pwsh as root.",
            _ => null,
        };
        if (action is not null) record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = action };
        return record;
    }
}
