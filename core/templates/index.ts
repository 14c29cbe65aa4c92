export type { TemplateLimits, TemplateRendering } from './render-template.js';
export {
  REPOSITORY_RENDER_MS,
  renderDeadline,
  renderTemplateFile,
  TEMPLATE_FILTERS,
  TEMPLATE_MEMORY_LIMIT,
  TEMPLATE_RENDER_MS,
  TEMPLATE_TAGS,
} from './render-template.js';
export type {
  DrainingHosts,
  TemplateContext,
  TemplateHost,
  TemplateRoute,
  TemplateService,
} from './template-context.js';
export { templateContextOf } from './template-context.js';
