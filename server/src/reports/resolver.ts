/** GraphQL surface of the operations report. */
import { Args, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../app/context.js';
import { operationsReport } from './service.js';
import { OperationsReport, OperationsReportArgs } from './types.js';

@Resolver()
export class ReportResolver {
  @Query(() => OperationsReport, { description: 'admin only: error rate, latency, alerts, slow statements, disk, workflows and capacity over [from, to) (at most 400 days)' })
  operationsReport(@Args() args: OperationsReportArgs, @Ctx() ctx: Context): Promise<OperationsReport> {
    return operationsReport(ctx, args.from, args.to);
  }
}
