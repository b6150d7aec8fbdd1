using Xunit;

// Every test launches real processes on a 2-core machine: run test classes two at a time.
[assembly: CollectionBehavior(MaxParallelThreads = 2)]
