/** GET /dashboard and its files (dashboard/dashboard-assets.ts), served without the API key. */
import { DASHBOARD_PATHS, sendDashboardAsset } from '../../dashboard/dashboard-assets.js';
import type { Handler } from '../../route.js';

/** The route table's test: the dashboard's paths, exactly. */
export const isDashboardPath = (pathname: string): Record<string, never> | undefined => (DASHBOARD_PATHS.includes(pathname) ? {} : undefined);

export const dashboardHandler: Handler = async ({ request, response, url }) => {
  sendDashboardAsset(request, response, url.pathname);
  return 'written';
};
