using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Parent;

/// <summary>
/// The parent's loggers for one worker's categories, for the worker's whole life (restarts included): a record of
/// category <c>c</c> is written under <c>IpcChannel.Workers.{name}.{c}</c> (control characters replaced, cut at
/// <see cref="MaxCategoryLength"/>), for the first <see cref="MaxCategories"/> distinct categories; records of later
/// ones are written under <c>IpcChannel.Workers.{name}</c>. The logger factory keeps every logger it made, so an
/// unbounded number of categories would be an unbounded amount of the parent's memory.
/// </summary>
internal sealed class WorkerLogCategories
{
    /// <summary>How many distinct categories of one worker get loggers of their own.</summary>
    internal const int MaxCategories = 256;

    /// <summary>The longest category suffix kept from a worker's record (longer ones are cut).</summary>
    internal const int MaxCategoryLength = 200;

    private readonly ILoggerFactory _loggers;
    private readonly Dictionary<string, ILogger> _byCategory = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public WorkerLogCategories(ILoggerFactory loggers, string workerName)
    {
        _loggers = loggers;
        Prefix = IpcSupervisor.WorkerLogCategory(workerName);
        Own = loggers.CreateLogger(Prefix);
    }

    /// <summary><c>IpcChannel.Workers.{name}</c>: the worker's own category (stdout, stderr, drop reports).</summary>
    public string Prefix { get; }

    /// <summary>The logger of <see cref="Prefix"/>.</summary>
    public ILogger Own { get; }

    /// <summary>The logger for a record the worker sent with <paramref name="category"/>.</summary>
    public ILogger For(string? category)
    {
        if (string.IsNullOrEmpty(category))
        {
            return Own;
        }

        string key = category.Length > MaxCategoryLength ? category[..MaxCategoryLength] : category;
        lock (_gate)
        {
            if (_byCategory.TryGetValue(key, out ILogger? logger))
            {
                return logger;
            }

            if (_byCategory.Count >= MaxCategories)
            {
                return Own;
            }

            logger = _loggers.CreateLogger(CategoryOf(key));
            _byCategory.Add(key, logger);
            return logger;
        }
    }

    private string CategoryOf(string category)
    {
        var suffix = new StringBuilder(category.Length);
        foreach (char c in category)
        {
            suffix.Append(char.IsControl(c) ? '_' : c);
        }

        return $"{Prefix}.{suffix}";
    }
}
