CREATE TABLE `tariffs` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`quotas` text DEFAULT '{}' NOT NULL,
	`disabled_modules` text DEFAULT '[]' NOT NULL,
	`disabled_features` text DEFAULT '[]' NOT NULL,
	`created_at` integer DEFAULT (unixepoch()) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch()) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tariffs_name` ON `tariffs` (`name`);